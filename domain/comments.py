"""Comments on posts: the entity and its rules, and the ports the use cases reach stored comments through."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol, Self

import msgspec

from domain.listing import ListQuery, Page
from domain.model import clean_content


class Comment(msgspec.Struct, frozen=True):
    id: uuid.UUID
    post_id: uuid.UUID
    owner_id: uuid.UUID
    content: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def new(cls, post_id: uuid.UUID, owner_id: uuid.UUID, content: str, now: datetime) -> Self:
        return cls(
            id=uuid.uuid4(),
            post_id=post_id,
            owner_id=owner_id,
            content=clean_content(content),
            created_at=now,
            updated_at=now,
        )

    def revised(self, content: str, now: datetime) -> Self:
        return msgspec.structs.replace(self, content=clean_content(content), updated_at=now, version=self.version + 1)


class CommentQuery(ListQuery, frozen=True):
    post_id: uuid.UUID | None = None


class CommentRepository(Protocol):
    """Load and save comments. Calls join the unit of work open in the caller's task, if any."""

    async def get(self, comment_id: uuid.UUID, *, for_update: bool = False) -> Comment | None:
        """``for_update`` locks the row until the unit of work ends (where the engine can)."""
        ...

    async def add(self, comment: Comment) -> None: ...

    async def update(self, comment: Comment) -> bool:
        """Store ``comment`` if the stored version is ``comment.version - 1``; return whether it was stored."""
        ...

    async def delete(self, comment_id: uuid.UUID) -> None: ...

    async def owners_on_post(self, post_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(comment id, owner id) of every comment on the post."""
        ...


class CommentReader(Protocol):
    """The read side: listings, each one statement."""

    async def list(self, query: CommentQuery) -> Page[Comment]:
        """One page of the comments matching the query's filters, and how many match in all."""
        ...
