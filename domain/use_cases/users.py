"""Reading users: the caller's own record (created from the token on first use) and anyone's by id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domain.model import Principal
from domain.ports import Clock, UnitOfWorkFactory
from domain.use_cases.steps import load
from domain.users import User, UserRepository


@dataclass(frozen=True, slots=True)
class GetCurrentUser:
    """The caller's record; the first call creates it from the token's claims."""

    uow: UnitOfWorkFactory
    users: UserRepository
    clock: Clock

    async def __call__(self, principal: Principal) -> User:
        user = await self.users.get(principal.id)
        if user is not None:
            return user
        async with self.uow() as uow:
            user = await self.users.add_if_absent(User.from_principal(principal, self.clock.now()))
            await uow.commit()
        return user


@dataclass(frozen=True, slots=True)
class GetUser:
    users: UserRepository

    async def __call__(self, user_id: uuid.UUID) -> User:
        return await load(self.users, "user", user_id)
