"""The ports every use case may need, whatever resource it works on, as typing.Protocols: the clock,
the caller's token, the unit of work, the authorizer, the idempotency keys of creates.

A resource's own ports (its repository and reader) are in its module, beside its entity
(domain/posts.py, domain/users.py, ...). Adapters implement them all (adapters/); the unit tests,
in-memory fakes (tests/fakes.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Literal, Protocol, Self

import msgspec

from domain.comments import Comment
from domain.idempotency import Answer, Recorded
from domain.model import Principal
from domain.posts import Post


class Clock(Protocol):
    def now(self) -> datetime: ...


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Principal:
        """Return the caller the token names, or raise ``Unauthenticated`` saying which check failed."""
        ...


# region: openfga
class RelationChange(msgspec.Struct, frozen=True):
    """A relationship tuple to write to or delete from the permission store (OpenFGA's shape)."""

    op: Literal["write", "delete"]
    user: str
    relation: str
    object: str

    @classmethod
    def owner(cls, op: Literal["write", "delete"], owner_id: uuid.UUID, object_type: str, object_id: uuid.UUID) -> Self:
        return cls(op=op, user=f"user:{owner_id}", relation="owner", object=f"{object_type}:{object_id}")

    # region: blog
    @classmethod
    def editor(cls, op: Literal["write", "delete"], post_id: uuid.UUID, user_id: uuid.UUID) -> Self:
        return cls(op=op, user=f"user:{user_id}", relation="editor", object=f"post:{post_id}")

    @classmethod
    def editor_group(cls, op: Literal["write", "delete"], post_id: uuid.UUID, group_id: uuid.UUID) -> Self:
        """Every member of the group is an editor (OpenFGA's userset ``group:<id>#member``)."""
        return cls(op=op, user=f"group:{group_id}#member", relation="editor", object=f"post:{post_id}")

    @classmethod
    def member(cls, op: Literal["write", "delete"], group_id: uuid.UUID, user_id: uuid.UUID) -> Self:
        return cls(op=op, user=f"user:{user_id}", relation="member", object=f"group:{group_id}")

    @classmethod
    def comment_post(cls, op: Literal["write", "delete"], comment_id: uuid.UUID, post_id: uuid.UUID) -> Self:
        """The post a comment is on: its owner may delete the comment (moderation)."""
        return cls(op=op, user=f"post:{post_id}", relation="post", object=f"comment:{comment_id}")

    # endregion


class Outbox(Protocol):
    async def record(self, changes: Sequence[RelationChange]) -> None:
        """Store changes in the current unit of work, for delivery after it commits."""
        ...


# endregion


class IdempotencyKeys(Protocol):
    """The keys of creates that may be retried (domain/idempotency.py), one per caller and key. Both
    calls join the unit of work open in the caller's task, so a key is kept exactly when its create
    commits."""

    async def take(
        self, caller_id: uuid.UUID, key: str, fingerprint: bytes, now: datetime, expires_at: datetime
    ) -> Recorded | None:
        """Take the key for this unit of work (None), or return what the request that took it first
        recorded. A key whose ``expires_at`` has passed is free again. Raises ``KeyInFlight`` while
        another unit of work holds it (one that has not yet committed or rolled back)."""
        ...

    async def keep(self, caller_id: uuid.UUID, key: str, answer: Answer) -> None:
        """Record the answer of the create that took the key in this unit of work."""
        ...


class UnitOfWork(Protocol):
    """One transaction, open for the ``async with`` block: every repository call made in the block
    (in the same task) joins it. Leaving the block without ``commit()`` rolls everything back. A
    single read needs none: outside a unit of work, each repository or reader call is one statement
    on its own."""

    # region: openfga
    outbox: Outbox  # joins the transaction too: its entries commit or roll back with the rows
    # endregion

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork:
        """A fresh unit of work, for one use-case call."""
        ...


# region: blog
# The questions an authorizer answers; who is granted each is stated once, in domain.policy.GRANTS.
Action = Literal["can_update", "can_delete", "can_share", "can_list_editors"]


class Authorizer(Protocol):
    # True when is_allowed asks another service (a permission server): writes then ask before their
    # transaction opens, so that waiting for the answer holds no row lock and no pooled connection.
    # False when it decides from our own database (the built-in authorizer: the row, and at most one
    # indexed query of the shares): writes ask inside the transaction, of the row they locked.
    remote: bool

    async def is_allowed(self, principal: Principal, action: Action, resource: Post | Comment) -> bool:
        """Whether the relationships grant ``action``. Admins never reach here (see domain.policy)."""
        ...


# endregion
