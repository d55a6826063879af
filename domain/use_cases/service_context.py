"""Maintenance mode: one flag in the database that every instance reads (through a cache, see
app/maintenance.py) and only an administrator (or the operator's CLI) may change."""

from __future__ import annotations

from domain.errors import Forbidden
from domain.model import Principal, ServiceContext
from domain.ports import Clock, UnitOfWorkFactory


class GetServiceContext:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self) -> ServiceContext:
        async with self._uow(read_only=True) as uow:
            context = await uow.service_context.get()
        return context or ServiceContext.initial()


class SetMaintenance:
    """Turn maintenance mode on or off. Over HTTP only an administrator may; the management CLI,
    which runs with the database credentials, calls ``by_operator`` instead (``updated_by`` null)."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, principal: Principal, maintenance: bool) -> ServiceContext:
        if not principal.is_admin:
            raise Forbidden("only an administrator may turn maintenance mode on or off")
        return await self._save(ServiceContext(maintenance, self._clock.now(), principal.id))

    async def by_operator(self, maintenance: bool) -> ServiceContext:
        return await self._save(ServiceContext(maintenance, self._clock.now(), None))

    async def _save(self, context: ServiceContext) -> ServiceContext:
        async with self._uow() as uow:
            await uow.service_context.save(context)
            await uow.commit()
        return context
