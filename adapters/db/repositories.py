"""Repositories over the Piccolo tables, with their SQL prebuilt once at import.

Every statement is written here once, as text with ``{}`` placeholders, from the tables' names
and the entities' fields (rows map positionally to the frozen entities), and compiled once per
dialect. On PostgreSQL a statement goes straight to asyncpg (prepared and cached per connection
by asyncpg) on the unit of work's transaction connection, or on a pooled connection when no
transaction is open; on SQLite it goes through Piccolo's engine. Building a Piccolo query per
call cost a third of a cached read (see benchmarks/README.md); this costs a dict lookup.

Stateless: queries join the unit of work's transaction through Piccolo's per-engine ContextVar,
so one instance of each repository serves every request. The engine is the one the tables are
bound to (adapters.db.engine.bind_tables).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any, ClassVar

from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString
from piccolo.table import Table

from adapters.db.tables import CommentTable, PostTable, ServiceContextTable, UserTable
from domain.listing import ListQuery, SortField, SortOrder
from domain.model import Comment, Post, ServiceContext, User

_CONTEXT_ROW_ID = 1

type Row = Sequence[Any]


class Statement:
    """One SQL statement, written once with ``{}`` placeholders: ``template`` is Piccolo's form (it
    compiles it for SQLite), ``postgres`` the asyncpg form with ``$n``, compiled here once (from
    ``postgres_template`` when PostgreSQL has a better way to say it)."""

    __slots__ = ("postgres", "template")

    def __init__(self, template: str, postgres_template: str | None = None) -> None:
        self.template = template
        source = template if postgres_template is None else postgres_template
        self.postgres = source.format(*(f"${n}" for n in range(1, source.count("{}") + 1)))

    def __repr__(self) -> str:
        return f"Statement({self.postgres!r})"


async def fetch(table: type[Table], statement: Statement, *args: Any) -> list[Row]:
    """Run ``statement`` on ``table``'s engine; rows come back as sequences in SELECT order."""
    engine = table._meta.db
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        transaction = engine.current_transaction.get()
        if transaction is not None:
            return await transaction.connection.fetch(statement.postgres, *args)  # type: ignore[no-any-return]
        async with engine.pool.acquire() as connection:
            return await connection.fetch(statement.postgres, *args)  # type: ignore[no-any-return]
    rows = await engine.run_querystring(QueryString(statement.template, *args))
    return [tuple(row.values()) if isinstance(row, dict) else row for row in rows]


# -- SQL text ---------------------------------------------------------------------------------------
def _name(table: type[Table]) -> str:
    return f'"{table._meta.tablename}"'


def _column(table: type[Table], field: str) -> str:
    return f'{_name(table)}."{field}"'


def _select(table: type[Table], fields: Sequence[str]) -> str:
    return f"SELECT {', '.join(_column(table, f) for f in fields)} FROM {_name(table)}"


def _insert(table: type[Table], fields: Sequence[str]) -> str:
    return (
        f"INSERT INTO {_name(table)} ({', '.join(f'"{f}"' for f in fields)}) VALUES ({', '.join('{}' for _ in fields)})"
    )


def _upsert(table: type[Table], fields: Sequence[str], keep: set[str]) -> str:
    """Insert, or on a conflicting id update every field but ``keep``."""
    updates = ", ".join(f'"{f}" = EXCLUDED."{f}"' for f in fields if f not in keep)
    return f'{_insert(table, fields)} ON CONFLICT ("id") DO UPDATE SET {updates}'


_USER_FIELDS: tuple[str, ...] = User.__struct_fields__
USER_GET = Statement(f"{_select(UserTable, _USER_FIELDS)} WHERE {_column(UserTable, 'id')} = {{}}")
USER_GET_FOR_UPDATE = Statement(USER_GET.template + " FOR UPDATE")
USER_INSERT_IF_ABSENT = Statement(
    f'{_insert(UserTable, _USER_FIELDS)} ON CONFLICT ("id") DO NOTHING RETURNING {", ".join(f'"{f}"' for f in _USER_FIELDS)}'
)
USER_UPSERT = Statement(_upsert(UserTable, _USER_FIELDS, keep={"id", "created_at"}))

_CONTEXT_FIELDS: tuple[str, ...] = ServiceContext.__struct_fields__
CONTEXT_GET = Statement(
    f"{_select(ServiceContextTable, _CONTEXT_FIELDS)} WHERE {_column(ServiceContextTable, 'id')} = {{}}"
)
CONTEXT_UPSERT = Statement(_upsert(ServiceContextTable, ("id", *_CONTEXT_FIELDS), keep={"id"}))


# ListQuery filter → (column, operator)
_FILTERS = {
    "owner_id": ("owner_id", "="),
    "post_id": ("post_id", "="),
    "from_date": ("created_at", ">="),
    "to_date": ("created_at", "<="),
}


class ContentStatements:
    """The statements of one content table (posts or comments)."""

    def __init__(self, table: type[Table], entity: type[Post] | type[Comment]) -> None:
        self.table = table
        self.fields: tuple[str, ...] = entity.__struct_fields__
        self.select = _select(table, self.fields)
        id_column = _column(table, "id")
        self.get = Statement(f"{self.select} WHERE {id_column} = {{}}")
        self.get_for_update = Statement(self.get.template + " FOR UPDATE")
        self.insert = Statement(_insert(table, self.fields))
        self.update = Statement(
            f'UPDATE {_name(table)} SET "content" = {{}}, "updated_at" = {{}}, "version" = {{}} '
            f"WHERE {id_column} = {{}} AND {_column(table, 'version')} = {{}} RETURNING {id_column}"
        )
        self.delete = Statement(f"DELETE FROM {_name(table)} WHERE {id_column} = {{}}")
        self.page = cache(self._page)
        self.count = cache(self._count)

    def _where(self, filters: tuple[str, ...]) -> str:
        if not filters:
            return ""
        return " WHERE " + " AND ".join(f"{_column(self.table, _FILTERS[f][0])} {_FILTERS[f][1]} {{}}" for f in filters)

    def _total(self, filters: tuple[str, ...], *, postgres: bool) -> str:
        """The number of rows matching ``filters``. Filtered: counted through the listing indexes.
        Unfiltered on PostgreSQL: the sum of the table's row-count deltas, kept by triggers (migration
        "row counts", adapters/db/row_counts.py), so it costs the same on any table size."""
        if postgres and not filters:
            return (
                "(SELECT COALESCE(SUM(delta), 0)::bigint FROM row_count_delta "
                f"WHERE relation = '{self.table._meta.tablename}')"
            )
        return f"(SELECT COUNT(*) FROM {_name(self.table)}{self._where(filters)})"

    def _count(self, filters: tuple[str, ...]) -> Statement:
        return Statement(
            f"SELECT {self._total(filters, postgres=False)}", f"SELECT {self._total(filters, postgres=True)}"
        )

    def _page(self, filters: tuple[str, ...], sort_by: SortField, order: SortOrder) -> Statement:
        """One page and, in the same round trip, the total: an uncorrelated subquery, which the database
        runs once per statement. Its filters' values come first, then the page's, then limit and offset.
        (Unfiltered, there are no filter values: the total takes none.)"""
        direction = "ASC" if order is SortOrder.asc else "DESC"
        where = self._where(filters)

        def page(total: str) -> str:
            return (
                f"SELECT {', '.join(_column(self.table, f) for f in self.fields)}, {total} AS total "
                f"FROM {_name(self.table)}{where} "
                f"ORDER BY {_column(self.table, sort_by.value)} {direction}, {_column(self.table, 'id')} {direction} "
                "LIMIT {} OFFSET {}"
            )

        return Statement(page(self._total(filters, postgres=False)), page(self._total(filters, postgres=True)))


POSTS = ContentStatements(PostTable, Post)
COMMENTS = ContentStatements(CommentTable, Comment)


# -- repositories -------------------------------------------------------------------------------------
class PiccoloUserRepository:
    def __init__(self, *, row_locks: bool) -> None:
        self._row_locks = row_locks

    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        rows = await fetch(UserTable, USER_GET_FOR_UPDATE if for_update and self._row_locks else USER_GET, user_id)
        return User(*rows[0]) if rows else None

    async def add_if_absent(self, user: User) -> User:
        existing = await self.get(user.id)
        if existing is not None:
            return existing
        inserted = await fetch(UserTable, USER_INSERT_IF_ABSENT, *_values(user))
        if inserted:
            return User(*inserted[0])
        # A concurrent first request of the same caller inserted it between our two statements.
        stored = await self.get(user.id)
        assert stored is not None
        return stored

    async def save(self, user: User) -> None:
        # An upsert that keeps the row's id and original creation time.
        await fetch(UserTable, USER_UPSERT, *_values(user))


class PiccoloContentRepository[T: (Post, Comment)]:
    statements: ClassVar[ContentStatements]
    entity: ClassVar[type[Post] | type[Comment]]

    def __init__(self, *, row_locks: bool) -> None:
        self._row_locks = row_locks

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> T | None:
        sql = self.statements
        rows = await fetch(sql.table, sql.get_for_update if for_update and self._row_locks else sql.get, item_id)
        return self.entity(*rows[0]) if rows else None  # type: ignore[return-value]

    async def add(self, item: T) -> None:
        await fetch(self.statements.table, self.statements.insert, *_values(item))

    async def update(self, item: T) -> bool:
        sql = self.statements
        changed = await fetch(
            sql.table, sql.update, item.content, item.updated_at, item.version, item.id, item.version - 1
        )
        return bool(changed)

    async def delete(self, item_id: uuid.UUID) -> None:
        await fetch(self.statements.table, self.statements.delete, item_id)

    async def list(self, query: ListQuery) -> tuple[list[T], int]:
        sql = self.statements
        filters, values = _filters(query, comments=sql is COMMENTS)
        page = sql.page(filters, query.sort_by, query.order)
        rows = await fetch(sql.table, page, *values, *values, query.limit, query.offset)
        if rows:
            total = rows[0][-1]
        elif query.offset == 0:
            total = 0
        else:  # past the last page: no row carried the total
            total = (await fetch(sql.table, sql.count(filters), *values))[0][0]
        entity = self.entity
        return [entity(*row[:-1]) for row in rows], total  # type: ignore[misc]


class PiccoloPostRepository(PiccoloContentRepository[Post]):
    statements = POSTS
    entity = Post


class PiccoloCommentRepository(PiccoloContentRepository[Comment]):
    statements = COMMENTS
    entity = Comment

    _IDS_OF_POST = Statement(
        f"SELECT {_column(CommentTable, 'id')}, {_column(CommentTable, 'owner_id')} FROM {_name(CommentTable)} "
        f"WHERE {_column(CommentTable, 'post_id')} = {{}}"
    )

    async def ids_of_post(self, post_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID]]:
        return [(row[0], row[1]) for row in await fetch(CommentTable, self._IDS_OF_POST, post_id)]


class PiccoloServiceContextRepository:
    async def get(self) -> ServiceContext | None:
        rows = await fetch(ServiceContextTable, CONTEXT_GET, _CONTEXT_ROW_ID)
        return ServiceContext(*rows[0]) if rows else None

    async def save(self, context: ServiceContext) -> None:
        await fetch(ServiceContextTable, CONTEXT_UPSERT, _CONTEXT_ROW_ID, *_values(context))


def _filters(query: ListQuery, *, comments: bool) -> tuple[tuple[str, ...], list[Any]]:
    """Which filters the query sets (in a fixed order, so each combination is one statement) and their values."""
    candidates = (
        ("owner_id", query.owner_id),
        ("post_id", query.post_id if comments else None),
        ("from_date", query.from_date),
        ("to_date", query.to_date),
    )
    present = [(name, value) for name, value in candidates if value is not None]
    return tuple(name for name, _ in present), [value for _, value in present]


def _values(entity: Any) -> list[Any]:
    return [getattr(entity, name) for name in entity.__struct_fields__]


def supports_row_locks(engine: object) -> bool:
    # SQLite has no row locks; its IMMEDIATE transactions already serialize writers.
    return isinstance(engine, PostgresEngine)
