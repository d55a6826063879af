"""Repositories over Piccolo tables. Stateless: queries join the unit of work's transaction through
Piccolo's per-engine ContextVar, so one instance of each serves every request."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from piccolo.columns import Column
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from adapters.db.tables import CommentTable, PostTable, ServiceContextTable, UserTable
from domain.listing import ListQuery, SortField, SortOrder
from domain.model import Comment, Post, ServiceContext, User

_CONTEXT_ROW_ID = 1


def _columns(table: type[Table], entity: type[Any]) -> list[Column]:
    return [table._meta.get_column_by_name(name) for name in entity.__struct_fields__]


class PiccoloUserRepository:
    _columns: ClassVar[list[Column]] = _columns(UserTable, User)

    def __init__(self, *, row_locks: bool) -> None:
        self._row_locks = row_locks

    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        query = UserTable.select(*self._columns).where(UserTable.id == user_id)
        if for_update and self._row_locks:
            query = query.lock_rows()
        rows = await query
        return User(**rows[0]) if rows else None

    async def add_if_absent(self, user: User) -> User:
        existing = await self.get(user.id)
        if existing is not None:
            return existing
        inserted = (
            await UserTable.insert(UserTable(**_row(user)))
            .on_conflict(target=UserTable.id, action="DO NOTHING")
            .returning(*self._columns)
        )
        if inserted:
            return User(**inserted[0])
        # A concurrent first request of the same caller inserted it between our two statements.
        stored = await self.get(user.id)
        assert stored is not None
        return stored

    async def save(self, user: User) -> None:
        # An upsert that keeps the row's id and original creation time.
        await UserTable.insert(UserTable(**_row(user))).on_conflict(
            target=UserTable.id,
            action="DO UPDATE",
            values=[c for c in self._columns if c._meta.name not in {"id", "created_at"}],
        )


class PiccoloContentRepository[T: (Post, Comment)]:
    table: ClassVar[type[PostTable] | type[CommentTable]]
    entity: ClassVar[type[Post] | type[Comment]]

    def __init__(self, *, row_locks: bool) -> None:
        self._row_locks = row_locks
        self._select_columns = _columns(self.table, self.entity)
        self._sort_columns = {
            SortField.created_at: self.table.created_at,
            SortField.updated_at: self.table.updated_at,
        }

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> T | None:
        query = self.table.select(*self._select_columns).where(self.table.id == item_id)
        if for_update and self._row_locks:
            query = query.lock_rows()
        rows = await query
        return self.entity(**rows[0]) if rows else None  # type: ignore[return-value]

    async def add(self, item: T) -> None:
        await self.table.insert(self.table(**_row(item)))  # type: ignore[arg-type]

    async def update(self, item: T) -> bool:
        t = self.table
        changed = (
            await t.update({t.content: item.content, t.updated_at: item.updated_at, t.version: item.version})
            .where((t.id == item.id) & (t.version == item.version - 1))
            .returning(t.id)
        )
        return bool(changed)

    async def delete(self, item_id: uuid.UUID) -> None:
        await self.table.delete().where(self.table.id == item_id)

    async def list(self, query: ListQuery) -> tuple[list[T], int]:
        t = self.table
        conditions = []
        if query.owner_id is not None:
            conditions.append(t.owner_id == query.owner_id)
        if query.post_id is not None and t is CommentTable:
            conditions.append(CommentTable.post_id == query.post_id)
        if query.from_date is not None:
            conditions.append(t.created_at >= query.from_date)
        if query.to_date is not None:
            conditions.append(t.created_at <= query.to_date)
        ascending = query.order is SortOrder.asc
        select = (
            t.select(*self._select_columns)
            .where(*conditions)
            .order_by(self._sort_columns[query.sort_by], ascending=ascending)
            .order_by(t.id, ascending=ascending)  # a stable order across pages
            .limit(query.limit)
            .offset(query.offset)
        )
        rows = await select
        if query.offset == 0 and len(rows) < query.limit:
            total = len(rows)  # the page holds everything: no need to count
        else:
            total = await t.count().where(*conditions)
        return [self.entity(**row) for row in rows], total  # type: ignore[misc]


class PiccoloPostRepository(PiccoloContentRepository[Post]):
    table = PostTable
    entity = Post


class PiccoloCommentRepository(PiccoloContentRepository[Comment]):
    table = CommentTable
    entity = Comment

    async def ids_of_post(self, post_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID]]:
        rows = await CommentTable.select(CommentTable.id, CommentTable.owner_id).where(CommentTable.post_id == post_id)
        return [(row["id"], row["owner_id"]) for row in rows]


class PiccoloServiceContextRepository:
    async def get(self) -> ServiceContext | None:
        row = (
            await ServiceContextTable.select(
                ServiceContextTable.maintenance, ServiceContextTable.updated_at, ServiceContextTable.updated_by
            )
            .where(ServiceContextTable.id == _CONTEXT_ROW_ID)
            .first()
        )
        return ServiceContext(**row) if row else None

    async def save(self, context: ServiceContext) -> None:
        t = ServiceContextTable
        await t.insert(t(id=_CONTEXT_ROW_ID, **_row(context))).on_conflict(
            target=t.id, action="DO UPDATE", values=[t.maintenance, t.updated_at, t.updated_by]
        )


def _row(entity: Any) -> dict[str, Any]:
    return {name: getattr(entity, name) for name in entity.__struct_fields__}


def supports_row_locks(engine: object) -> bool:
    # SQLite has no row locks; its IMMEDIATE transactions already serialize writers.
    return isinstance(engine, PostgresEngine)
