"""Maintenance mode: one flag in the database that every instance reads (through a cache, see
app/maintenance.py) and only an administrator (or the operator's CLI) may change."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import Forbidden
from domain.model import Principal
from domain.ports import Clock, UnitOfWorkFactory
from domain.service_context import ServiceContext, ServiceContextRepository


@dataclass(frozen=True, slots=True)
class GetServiceContext:
    contexts: ServiceContextRepository

    async def __call__(self) -> ServiceContext:
        return await self.contexts.get() or ServiceContext.initial()


@dataclass(frozen=True, slots=True)
class SetMaintenance:
    """Turn maintenance mode on or off. Over HTTP only an administrator may; the management CLI,
    which runs with the database credentials, calls ``by_operator`` instead (``updated_by`` null)."""

    uow: UnitOfWorkFactory
    contexts: ServiceContextRepository
    clock: Clock

    async def __call__(self, principal: Principal, maintenance: bool) -> ServiceContext:
        if not principal.is_admin:
            raise Forbidden("only an administrator may turn maintenance mode on or off")
        return await self._save(ServiceContext(maintenance, self.clock.now(), principal.id))

    async def by_operator(self, maintenance: bool) -> ServiceContext:
        return await self._save(ServiceContext(maintenance, self.clock.now(), None))

    async def _save(self, context: ServiceContext) -> ServiceContext:
        async with self.uow() as uow:
            await self.contexts.save(context)
            await uow.commit()
        return context
