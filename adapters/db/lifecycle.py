"""Opening, checking and closing the database, and applying migrations."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Generator
from pathlib import Path
from typing import Any

import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from adapters.db.engine import bind_tables


class _BoundedPool:
    """asyncpg's pool, handed out first come, first served, with a bounded wait.

    Piccolo acquires without a timeout, and a saturated pool must answer 503 after a bounded wait
    rather than queue forever. asyncpg's own wait is not first come, first served: a waiter woken
    for a released connection that loses it to a newcomer goes to the back of the line, so under
    sustained load a few requests starved past the timeout (503s) while the median waited
    milliseconds (benchmarks/README.md). A FIFO semaphore sized to the pool sets the order.
    """

    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout
        self._turns = asyncio.Semaphore(pool.get_max_size())

    def acquire(self, *, timeout: float | None = None) -> _Acquisition:
        """Awaitable (Piccolo's transactions) and an async context manager (the repositories)."""
        return _Acquisition(self, timeout if timeout is not None else self._acquire_timeout)

    async def _acquire(self, timeout: float) -> asyncpg.Connection:
        if self._turns.locked():  # every connection is out: wait for a turn, bounded
            async with asyncio.timeout(timeout):
                await self._turns.acquire()
        else:  # a turn is free and taking it does not wait: no timer to arm and cancel
            await self._turns.acquire()
        try:
            # With a turn, a connection is idle or may be opened (bounded by the pool's connect timeout).
            return await self._pool.acquire()
        except BaseException:
            self._turns.release()
            raise

    async def release(self, connection: asyncpg.Connection, *, timeout: float | None = None) -> None:
        try:
            await self._pool.release(connection, timeout=timeout)
        finally:
            self._turns.release()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


class _Acquisition:
    __slots__ = ("_connection", "_pool", "_timeout")

    def __init__(self, pool: _BoundedPool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        self._connection: asyncpg.Connection | None = None

    def __await__(self) -> Generator[Any, None, asyncpg.Connection]:
        return self._pool._acquire(self._timeout).__await__()

    async def __aenter__(self) -> asyncpg.Connection:
        self._connection = await self._pool._acquire(self._timeout)
        return self._connection

    async def __aexit__(self, *exc: object) -> None:
        assert self._connection is not None
        await self._pool.release(self._connection)


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
) -> None:
    bind_tables(engine)
    if isinstance(engine, SQLiteEngine) and engine.path != ":memory:":
        Path(engine.path).parent.mkdir(parents=True, exist_ok=True)
    if isinstance(engine, PostgresEngine):
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
        )
        engine.pool = _BoundedPool(engine.pool, acquire_timeout_ms / 1000)


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
    """Raise unless the database answers a trivial query within ``timeout`` seconds."""
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
