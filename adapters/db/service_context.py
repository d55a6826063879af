"""The service context in the database: a single row (id 1), and every statement its repository sends."""

from __future__ import annotations

from msgspec.structs import astuple
from piccolo.columns import UUID, Boolean, Integer, Timestamptz
from piccolo.engine.base import Engine
from piccolo.table import Table

from adapters.db.sql import Statement, fetch
from domain.service_context import ServiceContext


class ServiceContextTable(Table, tablename="service_context"):
    """A single row (id 1): the maintenance flag every instance reads."""

    id = Integer(primary_key=True)
    maintenance = Boolean(default=False)
    updated_at = Timestamptz()
    updated_by = UUID(null=True, default=None)


GET = Statement('SELECT "maintenance", "updated_at", "updated_by" FROM "service_context" WHERE "id" = 1')
UPSERT = Statement(
    'INSERT INTO "service_context" ("id", "maintenance", "updated_at", "updated_by") VALUES (1, $1, $2, $3) '
    'ON CONFLICT ("id") DO UPDATE SET "maintenance" = EXCLUDED."maintenance", "updated_at" = EXCLUDED."updated_at", '
    '"updated_by" = EXCLUDED."updated_by"'
)


class PiccoloServiceContextRepository:
    def __init__(self, engine: Engine) -> None:  # type: ignore[type-arg]
        self._engine = engine

    async def get(self) -> ServiceContext | None:
        rows = await fetch(self._engine, GET)
        return ServiceContext(*rows[0]) if rows else None

    async def save(self, context: ServiceContext) -> None:
        await fetch(self._engine, UPSERT, *astuple(context))
