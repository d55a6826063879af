"""Users in the database: the table, and every statement the repository sends.

Rows map positionally onto ``domain.users.User``: each SELECT names its columns in the entity's field order.
"""

from __future__ import annotations

import uuid

from msgspec.structs import astuple
from piccolo.columns import UUID, BigInt, Boolean, Timestamptz, Varchar
from piccolo.engine.base import Engine
from piccolo.table import Table

from adapters.db.sql import Statement, fetch
from domain.users import User


class UserTable(Table, tablename="users"):  # "user" is reserved in PostgreSQL
    id = UUID(primary_key=True)
    username = Varchar(length=255)
    full_name = Varchar(length=255, null=True, default=None)
    email = Varchar(length=320, null=True, default=None)
    is_active = Boolean(default=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    synced_at_ms = BigInt(null=True, default=None)


GET = Statement(
    'SELECT "id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms" '
    'FROM "users" WHERE "id" = $1'
)
GET_FOR_UPDATE = Statement(
    'SELECT "id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms" '
    'FROM "users" WHERE "id" = $1 FOR UPDATE',
    sqlite=GET,  # no row locks: SQLite's IMMEDIATE transaction already holds the whole database
)
INSERT_IF_ABSENT = Statement(
    'INSERT INTO "users" ("id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms") '
    'VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT ("id") DO NOTHING '
    'RETURNING "id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms"'
)
# Every column but the id and the creation time is replaced.
UPSERT = Statement(
    'INSERT INTO "users" ("id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms") '
    'VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT ("id") DO UPDATE SET "username" = EXCLUDED."username", '
    '"full_name" = EXCLUDED."full_name", "email" = EXCLUDED."email", "is_active" = EXCLUDED."is_active", '
    '"updated_at" = EXCLUDED."updated_at", "synced_at_ms" = EXCLUDED."synced_at_ms"'
)


class PiccoloUserRepository:
    def __init__(self, engine: Engine) -> None:  # type: ignore[type-arg]
        self._engine = engine

    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        rows = await fetch(self._engine, GET_FOR_UPDATE if for_update else GET, user_id)
        return User(*rows[0]) if rows else None

    async def add_if_absent(self, user: User) -> User:
        existing = await self.get(user.id)
        if existing is not None:
            return existing
        inserted = await fetch(self._engine, INSERT_IF_ABSENT, *astuple(user))
        if inserted:
            return User(*inserted[0])
        # A concurrent first request of the same caller inserted it between our two statements.
        stored = await self.get(user.id)
        assert stored is not None
        return stored

    async def save(self, user: User) -> None:
        await fetch(self._engine, UPSERT, *astuple(user))
