"""Ports: what the use cases need from the outside world, as typing.Protocols.

Adapters implement them (adapters/); tests implement them with in-memory fakes (tests/fakes.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Literal, Protocol, Self

import msgspec

from domain.listing import ListQuery
from domain.model import Comment, Post, Principal, ServiceContext, User, UserEvent


class Clock(Protocol):
    def now(self) -> datetime: ...


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Principal:
        """Return the caller the token names, or raise ``Unauthenticated`` saying which check failed."""
        ...


class UserEventSource(Protocol):
    def read(self, body: bytes, signature: str | None) -> UserEvent | None:
        """Authenticate one delivery from the identity provider, then decode it.

        None: a well-formed event that is not about a user's record (ignored). Raises
        ``DependencyUnavailable`` when no shared secret is configured, ``BadSignature`` when the
        signature is missing or wrong (checked before anything is parsed), and ``InvalidInput``
        when the body is malformed.
        """
        ...


class UserRepository(Protocol):
    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None: ...

    async def add_if_absent(self, user: User) -> User:
        """Insert ``user`` unless a row with its id exists; return the stored row."""
        ...

    async def save(self, user: User) -> None:
        """Insert or update by id (keeping the stored ``created_at``)."""
        ...


class ContentRepository[T: (Post, Comment)](Protocol):
    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> T | None:
        """``for_update`` locks the row until the unit of work ends (where the engine can)."""
        ...

    async def add(self, item: T) -> None: ...

    async def update(self, item: T) -> bool:
        """Store ``item`` if the stored version is ``item.version - 1``; return whether it was stored."""
        ...

    async def delete(self, item_id: uuid.UUID) -> None: ...

    async def list(self, query: ListQuery) -> tuple[list[T], int]:
        """One page of items and the total count of items matching the query's filters."""
        ...


class PostRepository(ContentRepository[Post], Protocol):
    pass


class CommentRepository(ContentRepository[Comment], Protocol):
    async def ids_of_post(self, post_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(comment id, owner id) of every comment on the post."""
        ...


class ServiceContextRepository(Protocol):
    async def get(self) -> ServiceContext | None:
        """The stored context, or None before anyone has set it."""
        ...

    async def save(self, context: ServiceContext) -> None: ...


class RelationChange(msgspec.Struct, frozen=True):
    """A relationship tuple to write to or delete from the permission store (OpenFGA's shape)."""

    op: Literal["write", "delete"]
    user: str
    relation: str
    object: str

    @classmethod
    def owner(cls, op: Literal["write", "delete"], owner_id: uuid.UUID, object_type: str, object_id: uuid.UUID) -> Self:
        return cls(op=op, user=f"user:{owner_id}", relation="owner", object=f"{object_type}:{object_id}")


class Outbox(Protocol):
    async def record(self, changes: Sequence[RelationChange]) -> None:
        """Store changes in the current unit of work, for delivery after it commits."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without ``commit()`` rolls everything back."""

    users: UserRepository
    posts: PostRepository
    comments: CommentRepository
    service_context: ServiceContextRepository
    outbox: Outbox

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """A fresh unit of work. ``read_only`` ones may skip the transaction and cannot commit."""
        ...


Action = Literal["can_update", "can_delete"]


class Authorizer(Protocol):
    # True when is_allowed asks another service (OpenFGA): writes then ask before their transaction
    # opens, so that waiting for the answer holds no row lock and no pooled connection. False when
    # it decides from the row alone (the built-in rule): writes ask inside the transaction, from the
    # row they locked, and save a read.
    remote: bool

    async def is_allowed(self, principal: Principal, action: Action, resource: Post | Comment) -> bool:
        """Whether the relationships grant ``action``. Admins never reach here (see domain.policy)."""
        ...
