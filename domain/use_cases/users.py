from __future__ import annotations

import uuid

from domain.errors import NotFound
from domain.model import Principal, User
from domain.ports import Clock, UnitOfWorkFactory


class GetCurrentUser:
    """The caller's record; the first call creates it from the token's claims."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, principal: Principal) -> User:
        async with self._uow(read_only=True) as uow:
            user = await uow.users.get(principal.id)
        if user is not None:
            return user
        async with self._uow() as uow:
            user = await uow.users.add_if_absent(User.from_principal(principal, self._clock.now()))
            await uow.commit()
        return user


class GetUser:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, user_id: uuid.UUID) -> User:
        async with self._uow(read_only=True) as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise NotFound(f"user {user_id} does not exist")
        return user
