"""Steps that several use cases take, as plain functions, so that each use case still reads as its rule."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Protocol

from domain.comments import Comment
from domain.errors import Forbidden, NotFound, PreconditionFailed
from domain.idempotency import KEPT_FOR, Answer, Idempotent, KeyReused
from domain.model import Principal
from domain.policy import ensure_allowed
from domain.ports import Action, Authorizer, Clock, IdempotencyKeys
from domain.posts import Post
from domain.users import User, UserRepository


class Loads[T](Protocol):
    async def get(self, item_id: uuid.UUID, /, *, for_update: bool = False) -> T | None: ...


class Versioned(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def version(self) -> int: ...


class Revises[T](Protocol):
    async def update(self, item: T, /) -> bool: ...


async def load[T](repository: Loads[T], kind: str, item_id: uuid.UUID, *, for_update: bool = False) -> T:
    """The item, or ``NotFound`` naming it. ``for_update`` locks its row until the unit of work ends."""
    item = await repository.get(item_id, for_update=for_update)
    if item is None:
        raise NotFound(f"{kind} {item_id} does not exist")
    return item


# region: blog
async def authorize_before[T: (Post, Comment)](
    authorizer: Authorizer, principal: Principal, action: Action, repository: Loads[T], kind: str, item_id: uuid.UUID
) -> None:
    """Ask a remote authorizer (a permission server) before the write transaction opens, on a read of its own:
    waiting for its answer must not hold a row lock and a pooled connection. Owners never change, so
    the answer still holds when the transaction loads the row again. Admins are decided from the
    token (domain.policy): no read. A local authorizer is asked by ``authorize_locked`` instead."""
    if principal.is_admin or not authorizer.remote:
        return
    await ensure_allowed(authorizer, principal, action, await load(repository, kind, item_id))


async def authorize_locked[T: (Post, Comment)](
    authorizer: Authorizer, principal: Principal, action: Action, item: T
) -> None:
    """Ask a local authorizer inside the write transaction, of the row just loaded and locked: it
    decides from the row itself, which saves the read ``authorize_before`` makes. A refusal raises
    and the transaction rolls back, having changed nothing."""
    if not authorizer.remote:
        await ensure_allowed(authorizer, principal, action, item)


# endregion


def check_version(kind: str, item: Versioned, expected_versions: Collection[int] | None) -> None:
    """Optimistic concurrency: the caller names the versions it saw (an ``If-Match`` may list
    several); the change goes ahead only if one of them is current. None: any version will do."""
    if expected_versions is not None and item.version not in expected_versions:
        seen = ", ".join(map(str, sorted(expected_versions))) or "none of its versions"
        raise PreconditionFailed(f"{kind} {item.id} is at version {item.version}, not {seen}")


async def save_revision[T: Versioned](repository: Revises[T], kind: str, revised: T) -> None:
    """A compare-and-set on the version. The row lock the use case holds makes it succeed; it stays
    as the guard for engines without row locks, so that two writers can never both win."""
    if not await repository.update(revised):
        raise PreconditionFailed(f"{kind} {revised.id} was changed concurrently; reload it")


async def register_writer(users: UserRepository, principal: Principal, clock: Clock) -> User:
    """The caller's user record, created from the token the first time the caller writes."""
    user = await users.add_if_absent(User.from_principal(principal, clock.now()))
    if not user.is_active:
        raise Forbidden("your account is deactivated")
    return user


async def replay[T](keys: IdempotencyKeys, principal: Principal, once: Idempotent[T], clock: Clock) -> Answer | None:
    """A create sent with an idempotency key takes the key first thing in its unit of work: None, go
    ahead. A retry gets the answer the first request got instead, and creates nothing. The same key
    with another request is refused (``KeyReused``, a 422), and so is a retry while the first request
    is still running (``KeyInFlight``, a 409): the key stays with the request that took it."""
    now = clock.now()
    first = await keys.take(principal.id, once.key, once.fingerprint, now, now + KEPT_FOR)
    if first is None:
        return None
    if first.fingerprint != once.fingerprint:
        raise KeyReused(f"Idempotency-Key {once.key!r} was first used for another request; use a new key for this one")
    return first.answer


async def keep_answer[T](keys: IdempotencyKeys, principal: Principal, once: Idempotent[T], created: T) -> Answer:
    """The answer to a create that took its key, kept with the key in the same unit of work: the row
    and the key commit together or not at all."""
    answer = once.answer(created)
    await keys.keep(principal.id, once.key, answer)
    return answer
