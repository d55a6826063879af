"""Folding the row-count deltas that PostgreSQL's triggers append (migration "row counts").

Every INSERT or DELETE statement on ``post`` or ``comment`` appends one ``row_count_delta`` row;
an unfiltered listing's ``total`` is their sum (adapters/db/sql.py: ``Listing``). The sum is exact at
every moment; folding keeps it short: one statement deletes a table's deltas and inserts their sum,
so readers see the rows before or after, never half. Concurrent folds (several workers) are safe:
a fold deletes and re-inserts only the rows it saw, and one blocked by another's locks skips the
rows that fold already took. Nothing to do on SQLite, which counts with ``COUNT(*)``.
"""

from __future__ import annotations

import asyncio
import logging

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

log = logging.getLogger(__name__)

COUNTED = ("post", "comment")
FOLD_EVERY_SECONDS = 1.0  # at ~1,500 writes/s, a sum over at most ~1,500 small rows (~0.2 ms)

_FOLD = """
WITH folded AS (
    DELETE FROM row_count_delta
    WHERE relation = $1 AND (SELECT count(*) FROM row_count_delta WHERE relation = $1) > 1
    RETURNING delta
)
INSERT INTO row_count_delta (relation, delta) SELECT $1, SUM(delta) FROM folded HAVING count(*) > 0
"""


async def recount(engine: Engine) -> dict[str, int]:  # type: ignore[type-arg]
    """Set each counted table's deltas to its real row count, e.g. after a restore or a load with
    triggers off. Locks out writers to the tables for its few statements; readers go on. Returns
    the counts; empty on SQLite (nothing kept there)."""
    if not isinstance(engine, PostgresEngine) or engine.pool is None:
        return {}
    counts: dict[str, int] = {}
    async with engine.pool.acquire() as connection, connection.transaction():
        for relation in COUNTED:
            await connection.execute(f'LOCK TABLE "{relation}" IN SHARE ROW EXCLUSIVE MODE')
            await connection.execute("DELETE FROM row_count_delta WHERE relation = $1", relation)
            counts[relation] = await connection.fetchval(f'SELECT COUNT(*) FROM "{relation}"')  # noqa: S608 - fixed names
            await connection.execute(
                "INSERT INTO row_count_delta (relation, delta) VALUES ($1, $2)", relation, counts[relation]
            )
    return counts


async def fold(engine: Engine) -> None:  # type: ignore[type-arg]
    """Fold each counted table's deltas into one row (no-op on SQLite, or with one row already)."""
    if not isinstance(engine, PostgresEngine) or engine.pool is None:
        return
    async with engine.pool.acquire() as connection:
        for relation in COUNTED:
            await connection.execute(_FOLD, relation)


async def fold_forever(engine: Engine, every: float = FOLD_EVERY_SECONDS) -> None:  # type: ignore[type-arg]
    """Fold every ``every`` seconds, for as long as the app runs (app.lifecycle runs it in the
    background); returns at once on SQLite."""
    if not isinstance(engine, PostgresEngine):
        return
    while True:
        await asyncio.sleep(every)
        try:
            await fold(engine)
        except Exception as exc:  # the database is away: the sums stay exact, only longer; next time
            log.debug("row-count fold failed: %s", exc)
