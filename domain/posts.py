"""Posts: the entity and its rules, and the ports the use cases reach stored posts through."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol, Self

import msgspec

from domain.listing import ListQuery, Page
from domain.model import clean_content


class Post(msgspec.Struct, frozen=True):
    id: uuid.UUID
    owner_id: uuid.UUID
    content: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def new(cls, owner_id: uuid.UUID, content: str, now: datetime) -> Self:
        return cls(id=uuid.uuid4(), owner_id=owner_id, content=clean_content(content), created_at=now, updated_at=now)

    def revised(self, content: str, now: datetime) -> Self:
        return msgspec.structs.replace(self, content=clean_content(content), updated_at=now, version=self.version + 1)


class PostQuery(ListQuery, frozen=True):
    # Only the posts this user may change: owned, or shared with them (directly or through a group).
    editable_by: uuid.UUID | None = None


class PostRepository(Protocol):
    """Load and save posts. Calls join the unit of work open in the caller's task, if any."""

    async def get(self, post_id: uuid.UUID, *, for_update: bool = False) -> Post | None:
        """``for_update`` locks the row until the unit of work ends (where the engine can)."""
        ...

    async def add(self, post: Post) -> None: ...

    async def update(self, post: Post) -> bool:
        """Store ``post`` if the stored version is ``post.version - 1``; return whether it was stored."""
        ...

    async def delete(self, post_id: uuid.UUID) -> None:
        """Its comments go with it."""
        ...


class PostReader(Protocol):
    """The read side: listings, each one statement."""

    async def list(self, query: PostQuery) -> Page[Post]:
        """One page of the posts matching the query's filters, and how many match in all."""
        ...
