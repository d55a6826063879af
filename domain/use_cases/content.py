"""What posts and comments have in common: reading, listing, revising with optimistic concurrency.

The concrete use cases (posts.py, comments.py) say which repository and which kind they work on.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import ClassVar

from domain.errors import Forbidden, NotFound, PreconditionFailed
from domain.listing import ListQuery, Page
from domain.model import Comment, Post, Principal, User
from domain.policy import ensure_allowed
from domain.ports import Action, Authorizer, Clock, ContentRepository, UnitOfWork, UnitOfWorkFactory


def not_found(kind: str, item_id: uuid.UUID) -> NotFound:
    return NotFound(f"{kind} {item_id} does not exist")


def ensure_version(kind: str, item: Post | Comment, expected_versions: Collection[int] | None) -> None:
    """Optimistic concurrency: the caller names the versions it saw (an If-Match may list several);
    the change goes ahead only if one of them is current. None: any version will do."""
    if expected_versions is not None and item.version not in expected_versions:
        seen = ", ".join(map(str, sorted(expected_versions))) or "none of its versions"
        raise PreconditionFailed(f"{kind} {item.id} is at version {item.version}, not {seen}")


class ContentUseCase[T: (Post, Comment)]:
    kind: ClassVar[str]

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    @staticmethod
    def repository(uow: UnitOfWork) -> ContentRepository[T]:
        raise NotImplementedError

    async def load(self, uow: UnitOfWork, item_id: uuid.UUID, *, for_update: bool = False) -> T:
        item = await self.repository(uow).get(item_id, for_update=for_update)
        if item is None:
            raise not_found(self.kind, item_id)
        return item

    async def authorize_before(
        self, authorizer: Authorizer, principal: Principal, action: Action, item_id: uuid.UUID
    ) -> None:
        """A remote authorizer (OpenFGA) is asked before the write transaction opens: waiting for it
        must not hold a row lock and a pooled connection. Owners never change, so the answer still
        holds when the transaction loads the row again. A local one is asked by ``authorize_locked``."""
        if principal.is_admin or not authorizer.remote:
            return  # admins are decided from the token (domain.policy): no need to read the row
        async with self._uow(read_only=True) as uow:
            item = await self.load(uow, item_id)
        await ensure_allowed(authorizer, principal, action, item)

    @staticmethod
    async def authorize_locked(authorizer: Authorizer, principal: Principal, action: Action, item: T) -> None:
        """Inside the write transaction, with ``item`` just loaded and locked: a local authorizer
        decides here, from the row itself, which saves the separate read ``authorize_before`` makes.
        A refusal raises and the transaction rolls back, having changed nothing."""
        if not authorizer.remote:
            await ensure_allowed(authorizer, principal, action, item)


class GetContent[T: (Post, Comment)](ContentUseCase[T]):
    async def __call__(self, item_id: uuid.UUID) -> T:
        async with self._uow(read_only=True) as uow:
            return await self.load(uow, item_id)


class ListContent[T: (Post, Comment)](ContentUseCase[T]):
    async def __call__(self, query: ListQuery) -> Page[T]:
        async with self._uow(read_only=True) as uow:
            items, total = await self.repository(uow).list(query)
        return Page(items=items, total=total, limit=query.limit, offset=query.offset)


class ReviseContent[T: (Post, Comment)](ContentUseCase[T]):
    def __init__(self, uow: UnitOfWorkFactory, authorizer: Authorizer, clock: Clock) -> None:
        super().__init__(uow)
        self._authorizer = authorizer
        self._clock = clock

    async def __call__(
        self,
        principal: Principal,
        item_id: uuid.UUID,
        content: str,
        expected_versions: Collection[int] | None = None,
    ) -> T:
        await self.authorize_before(self._authorizer, principal, "can_update", item_id)
        async with self._uow() as uow:
            item = await self.load(uow, item_id, for_update=True)
            await self.authorize_locked(self._authorizer, principal, "can_update", item)
            ensure_version(self.kind, item, expected_versions)
            revised = item.revised(content, self._clock.now())
            # The row lock makes this compare-and-set succeed; it stays as the guard for engines
            # without row locks, so that two writers can never both win.
            if not await self.repository(uow).update(revised):
                raise PreconditionFailed(f"{self.kind} {item_id} was changed concurrently; reload it")
            await uow.commit()
        return revised


async def register_writer(uow: UnitOfWork, principal: Principal, clock: Clock) -> User:
    """The caller's user record, created from the token the first time the caller writes."""
    user = await uow.users.add_if_absent(User.from_principal(principal, clock.now()))
    if not user.is_active:
        raise Forbidden("your account is deactivated")
    return user
