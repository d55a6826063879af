"""How the repositories and readers send SQL: literal statements, sent as written.

A repository's statements are written in its module (``adapters/db/posts.py`` and its siblings) as
``Statement``\\ s: literal SQL with asyncpg's ``$1``, ``$2`` placeholders. On PostgreSQL a statement
goes straight to asyncpg (which prepares and caches it per connection) on the unit of work's
transaction connection, or on a pooled connection outside one, within the unit of work's deadline
or one of its own (DB_REQUEST_TIMEOUT_MS, adapters/db/pool.py); on SQLite it goes through Piccolo's
engine with ``?`` for each ``$n``. Where SQLite needs other words, the statement says so
(``sqlite=``). Both kinds join the unit of work's transaction through Piccolo's per-engine
ContextVar, so one repository instance serves every request. Why Piccolo builds none of these
queries, and where it does build them: docs/database.md.

``Listing`` is the one builder, because a listing's variants are real: which filters are set ×
the sort field × the order × whether the page starts at an offset or after a cursor's row. Each
variant is assembled once, on first use, then cached.

Every statement and every listing variant, in both dialects, is checked in under
``tests/snapshots/sql/`` (``uv run just sql-snapshot`` rewrites it): a change of SQL shows in a diff.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from adapters.db.errors import as_unavailable, is_unique_violation
from domain.errors import Conflict
from domain.listing import Page, SortOrder, cursor_after, cursor_position

type Row = Sequence[Any]

_PLACEHOLDER = re.compile(r"\$(\d+)")


class Statement:
    """One SQL statement: ``postgres`` as written; ``sqlite`` the same (or the ``sqlite=`` text, with
    the same ``$n`` numbering) with ``?`` placeholders, its values passed in placeholder order.

    ``conflict``: a write that a unique index may refuse says so, and ``fetch`` turns the refusal
    into ``Conflict(conflict)`` (a 409). The database decides, so two concurrent writers of the same
    value cannot both win."""

    __slots__ = ("_order", "_template", "conflict", "postgres", "sqlite")

    def __init__(self, sql: str, *, sqlite: str | Statement | None = None, conflict: str | None = None) -> None:
        self.postgres = sql
        self.conflict = conflict
        source = sql if sqlite is None else sqlite.postgres if isinstance(sqlite, Statement) else sqlite
        self._order = [int(number) - 1 for number in _PLACEHOLDER.findall(source)]
        self._template = _PLACEHOLDER.sub("{}", source)  # Piccolo's placeholder; it sends "?" to SQLite
        self.sqlite = _PLACEHOLDER.sub("?", source)

    def __repr__(self) -> str:
        return f"Statement({self.postgres!r})"


async def fetch(engine: Engine, statement: Statement, *args: Any) -> list[Row]:  # type: ignore[type-arg]
    """Run ``statement`` in the current transaction, if any; rows come back as sequences in SELECT order.
    A database that does not answer raises ``DependencyUnavailable`` (adapters/db/errors.py); a unique
    index refusing a statement that declares a ``conflict``, ``Conflict``."""
    try:
        if isinstance(engine, PostgresEngine) and engine.pool is not None:
            transaction = engine.current_transaction.get()
            if transaction is not None:  # the unit of work's, under its deadline (adapters/db/pool.py)
                return await transaction.connection.fetch(statement.postgres, *args)  # type: ignore[no-any-return]
            return await engine.pool.run(statement.postgres, args)  # type: ignore[no-any-return]  # a deadline of its own
        rows = await engine.run_querystring(QueryString(statement._template, *(args[i] for i in statement._order)))
    except Exception as exc:
        if (unavailable := as_unavailable(exc)) is not None:
            raise unavailable from exc
        if statement.conflict is not None and is_unique_violation(exc):
            raise Conflict(statement.conflict) from exc
        raise
    return [tuple(row.values()) if isinstance(row, dict) else row for row in rows]


class Query(Protocol):
    """What a listing reads of a query (domain.listing.ListQuery and its kin); the filters are
    further attributes, named in ``Listing.filters``."""

    @property
    def sort_by(self) -> Any: ...
    @property
    def order(self) -> SortOrder: ...
    @property
    def limit(self) -> int: ...
    @property
    def offset(self) -> int | None: ...
    @property
    def cursor(self) -> str | None: ...


class Listing:
    """The page statements of one table's listing.

    A page is ``SELECT <columns>, <total> AS total FROM <table> [WHERE <the filters set, ANDed>]
    ORDER BY <sort field> <order>, "id" <order> LIMIT $m OFFSET $n``: the total rides in the page's
    statement as an uncorrelated subquery (run once per statement), over the same filters, whose
    values are the first placeholders. ``filters`` maps a query attribute to its condition, ``{}``
    where the value goes; a filter whose value is None is left out. With ``counted_by_triggers``
    the unfiltered total on PostgreSQL is the sum of the table's row-count deltas (migration "row
    counts", adapters/db/row_counts.py), which costs the same on any table size; otherwise, and on
    SQLite, ``COUNT(*)`` (through the listing indexes when filtered).

    A page after a cursor (domain/listing.py) is the keyset form: the filters ANDed with
    ``(<sort field>, "id") < ($v, $id)`` (``>`` ascending) and no OFFSET, so the database starts
    in the sort field's index right after the last row it served, at any depth; ties on the sort
    value are broken by id, so no row is skipped or served twice. Every page asks for one row
    more than its limit: that row, if it comes, says there is a next page (and is not returned).
    """

    def __init__(
        self,
        table: str,
        columns: str,
        *,
        filters: Mapping[str, str],
        sort_columns: Sequence[str],
        counted_by_triggers: bool = False,
    ) -> None:
        self.table = table
        self.columns = columns
        self.filters = dict(filters)
        self.sort_columns = tuple(sort_columns)
        self.counted_by_triggers = counted_by_triggers
        # Where the id and each sort value sit in a row: the next page's cursor is made of them.
        names = [column.strip().strip('"') for column in columns.split(",")]
        self._position = {name: names.index(name) for name in ("id", *self.sort_columns)}
        self._pages: dict[tuple[tuple[str, ...], str, SortOrder, bool], Statement] = {}
        self._counts: dict[tuple[str, ...], Statement] = {}

    async def page[T](self, engine: Engine, query: Query, entity: type[T]) -> Page[T]:  # type: ignore[type-arg]
        """One page of ``entity`` rows (their columns in the entity's field order), the total, and
        the cursor of the next page. A cursor that is not this listing's → ``InvalidInput``."""
        names = tuple(name for name in self.filters if getattr(query, name) is not None)
        values = [getattr(query, name) for name in names]
        sort_by, limit, offset = query.sort_by.value, query.limit, query.offset or 0
        after = cursor_position(self.table, query)  # type: ignore[arg-type]
        if after is None:
            statement = self.page_statement(names, sort_by, query.order)
            rows = await fetch(engine, statement, *values, limit + 1, offset)
        else:
            statement = self.page_statement(names, sort_by, query.order, after_cursor=True)
            rows = await fetch(engine, statement, *values, *after, limit + 1)
        if rows:
            total = rows[0][-1]
        elif offset == 0 and after is None:
            total = 0
        else:  # past the last page: no row carried the total
            total = (await fetch(engine, self.count_statement(names), *values))[0][0]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = cursor_after(self.table, query, last[self._position[sort_by]], last[self._position["id"]])  # type: ignore[arg-type]
            del rows[limit:]
        return Page([entity(*row[:-1]) for row in rows], total, limit, offset, next_cursor)

    def page_statement(
        self, filters: tuple[str, ...], sort_by: str, order: SortOrder, *, after_cursor: bool = False
    ) -> Statement:
        key = (filters, sort_by, order, after_cursor)
        statement = self._pages.get(key)
        if statement is None:
            if sort_by not in self.sort_columns:
                raise ValueError(f"{self.table} listings sort on {self.sort_columns}, not {sort_by!r}")
            n = len(filters)
            conditions = [self.filters[name].format(f"${i}") for i, name in enumerate(filters, 1)]
            if after_cursor:
                beyond = ">" if order is SortOrder.asc else "<"
                conditions.append(f'("{sort_by}", "id") {beyond} (${n + 1}, ${n + 2})')
                paging = f"LIMIT ${n + 3}"
            else:
                paging = f"LIMIT ${n + 1} OFFSET ${n + 2}"
            where = " WHERE " + " AND ".join(conditions) if conditions else ""
            direction = "ASC" if order is SortOrder.asc else "DESC"

            def page(total: str) -> str:
                return (
                    f'SELECT {self.columns}, {total} AS total FROM "{self.table}"{where} '
                    f'ORDER BY "{sort_by}" {direction}, "id" {direction} {paging}'
                )

            statement = self._pages[key] = Statement(page(self._total(filters)), sqlite=page(self._count(filters)))
        return statement

    def count_statement(self, filters: tuple[str, ...]) -> Statement:
        statement = self._counts.get(filters)
        if statement is None:
            statement = self._counts[filters] = Statement(
                f"SELECT {self._total(filters)}", sqlite=f"SELECT {self._count(filters)}"
            )
        return statement

    def variants(self) -> Iterator[tuple[str, Statement]]:
        """Every statement this listing can send, named: for the checked-in snapshot."""
        subsets = [c for n in range(len(self.filters) + 1) for c in itertools.combinations(self.filters, n)]
        for filters in subsets:
            where = ", ".join(filters) or "no filter"
            for sort_by, order in itertools.product(self.sort_columns, SortOrder):
                yield f"page: {where}; {sort_by} {order.value}", self.page_statement(filters, sort_by, order)
                yield (
                    f"page after a cursor: {where}; {sort_by} {order.value}",
                    self.page_statement(filters, sort_by, order, after_cursor=True),
                )
            yield f"count: {where}", self.count_statement(filters)

    def _where(self, filters: tuple[str, ...]) -> str:
        if not filters:
            return ""
        return " WHERE " + " AND ".join(self.filters[name].format(f"${n}") for n, name in enumerate(filters, 1))

    def _count(self, filters: tuple[str, ...]) -> str:
        return f'(SELECT COUNT(*) FROM "{self.table}"{self._where(filters)})'

    def _total(self, filters: tuple[str, ...]) -> str:
        if self.counted_by_triggers and not filters:
            return f"(SELECT COALESCE(SUM(delta), 0)::bigint FROM row_count_delta WHERE relation = '{self.table}')"
        return self._count(filters)
