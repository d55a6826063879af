"""Opening, checking and closing the database, and applying migrations."""

from __future__ import annotations

import asyncio
import contextlib
import io
from pathlib import Path
from typing import Any

import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from adapters.db.engine import bind_tables
from adapters.db.pool import BoundedPool, Connector


async def _release_as_is(connection: asyncpg.Connection) -> None:
    """What asyncpg runs when a connection goes back to the pool, after it has itself rolled back
    any transaction left open and dropped listeners. Its default would also send
    ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``: one more round trip
    per request, a fifth of a cached read's time (benchmarks/README.md). Nothing in this app leaves
    such state on a pooled connection, and nothing may: use ``SET LOCAL`` rather than ``SET``,
    ``pg_advisory_xact_lock`` rather than session advisory locks, and a dedicated connection to
    LISTEN."""


async def open_database(
    engine: Engine,  # type: ignore[type-arg]
    *,
    pool_min: int,
    pool_max: int,
    statement_timeout_ms: int,
    acquire_timeout_ms: int,
    request_timeout_ms: int = 3000,
) -> None:
    bind_tables(engine)
    if isinstance(engine, SQLiteEngine) and engine.path != ":memory:":
        Path(engine.path).parent.mkdir(parents=True, exist_ok=True)
    if isinstance(engine, PostgresEngine):
        connector = Connector()
        await engine.start_connection_pool(
            min_size=pool_min,
            max_size=pool_max,
            timeout=acquire_timeout_ms / 1000,  # connecting a new connection
            # Client-side bound slightly above the server's, so the server's cancel wins normally.
            command_timeout=statement_timeout_ms / 1000 + 1,
            server_settings={
                "statement_timeout": str(statement_timeout_ms),
                "idle_in_transaction_session_timeout": str(max(statement_timeout_ms * 4, 10_000)),
                "application_name": "blog-service",
            },
            reset=_release_as_is,
            connect=connector,  # a connection opened for a unit of work is up by its deadline, or given up
        )
        engine.pool = connector.pool = BoundedPool(engine.pool, acquire_timeout_ms / 1000, request_timeout_ms / 1000)


def set_request_timeout(engine: Engine, milliseconds: int) -> None:  # type: ignore[type-arg]
    """DB_REQUEST_TIMEOUT_MS, live: the budget of the units of work that open from now on."""
    pool = engine.pool if isinstance(engine, PostgresEngine) else None
    if isinstance(pool, BoundedPool):
        pool.request_timeout = milliseconds / 1000


async def close_database(engine: Engine, *, timeout: float = 10.0) -> None:  # type: ignore[type-arg]
    """Close the pool: wait (at most ``timeout`` seconds) for borrowed connections to come back,
    then cut whatever is left, so that shutting down never hangs on a stuck connection."""
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        pool, engine.pool = engine.pool, None
        try:
            async with asyncio.timeout(timeout):
                await pool.close()
        except TimeoutError:
            pool.terminate()


def pool_stats(engine: Engine) -> tuple[int, int, int] | None:  # type: ignore[type-arg]
    """(open connections, idle ones, maximum) of the asyncpg pool; None without a pool (SQLite)."""
    pool = engine.pool if isinstance(engine, PostgresEngine) else None
    if pool is None:
        return None
    return pool.get_size(), pool.get_idle_size(), pool.get_max_size()


async def ping(engine: Engine, timeout: float) -> None:  # type: ignore[type-arg]
    """Raise unless the database answers a trivial query within ``timeout`` seconds (on PostgreSQL,
    and within DB_REQUEST_TIMEOUT_MS: the probe is a request's database work like any other)."""
    pool = engine.pool if isinstance(engine, PostgresEngine) else None
    if isinstance(pool, BoundedPool):
        await pool.run("SELECT 1", (), seconds=min(timeout, pool.request_timeout))
        return
    async with asyncio.timeout(timeout):
        await engine.run_querystring(_SELECT_1)


async def migrate(engine: Engine) -> list[str]:  # type: ignore[type-arg]
    """Apply pending migrations to ``engine``; returns the ids applied. Idempotent."""
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.apps.migrations.tables import Migration

    import piccolo_conf  # Piccolo's migration runner finds its engine there

    bind_tables(engine)
    piccolo_conf.DB = engine
    Migration._meta.db = engine
    before = set(await Migration.get_migrations_which_ran()) if await Migration.table_exists() else set()
    with contextlib.redirect_stdout(io.StringIO()):  # Piccolo narrates to stdout; we log the outcome
        result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")
    after = set(await Migration.get_migrations_which_ran())
    return sorted(after - before)


def _select_one() -> Any:
    from piccolo.querystring import QueryString

    return QueryString("SELECT 1")


_SELECT_1 = _select_one()
