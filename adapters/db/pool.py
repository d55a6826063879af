"""The PostgreSQL pool as the app uses it: turns served first come, first served, and one deadline
for all the database work of a unit of work, or of a statement sent outside one.

**One deadline** (``DB_REQUEST_TIMEOUT_MS``, live: ``BoundedPool.request_timeout``). A unit of work
makes one ``Deadline`` when it opens; the wait for a pool turn, opening a connection if the pool
must, ``BEGIN``, every statement, ``COMMIT`` or ``ROLLBACK`` each get what is left of it, as
asyncpg's own per-call ``timeout`` (the timer asyncpg arms for every call anyway: no timer more,
no await more). Per-statement timeouts used to add up instead: with a frozen server (processes
stopped, connections accepted by the kernel and never answered) a read answered 503 after 12 s
(docs/reliability.md).

**A connection that did not finish is cut, never returned.** When a call fails without the server
having answered (the deadline passed, the socket broke, the task was cancelled), the connection may
be mid-statement or mid-transaction: it is terminated (its socket closed at once; the server rolls
back whatever was open) and its pool slot is given back, to be reconnected on a later turn. Only a
connection that is idle between statements is rolled back politely, within what is left of the
deadline; if that fails too, it is terminated. So a COMMIT that did not answer in time is reported
as a failure (503), and the transaction it ended is either committed whole or not at all.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Generator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Self

import asyncpg
from piccolo.engine.postgres import PostgresEngine

_now = time.monotonic  # asyncio's loop.time() is the same clock


class Deadline:
    """When the database work must be over. ``remaining()`` raises TimeoutError once it has passed:
    nothing is sent to the database after the deadline."""

    __slots__ = ("at",)

    def __init__(self, seconds: float) -> None:
        self.at = _now() + seconds

    def remaining(self) -> float:
        left = self.at - _now()
        if left <= 0:
            raise TimeoutError("the deadline of this database work has passed")
        return left


def answered(exc: BaseException) -> bool:
    """Whether the server answered the call that raised ``exc`` (an error it reports, such as a
    unique violation or its own statement timeout): the connection is then idle and reusable.
    Anything else (a client-side timeout, a broken socket, a cancelled task) leaves it unknown."""
    return isinstance(exc, asyncpg.PostgresError) and not isinstance(exc, asyncpg.PostgresConnectionError)


class BoundedPool:
    """asyncpg's pool, handed out first come, first served, with every wait bounded.

    Piccolo acquires without a timeout, and a saturated pool must answer 503 after a bounded wait
    rather than queue forever. asyncpg's own wait is not first come, first served: a waiter woken
    for a released connection that loses it to a newcomer goes to the back of the line, so under
    sustained load a few requests starved past the timeout (503s) while the median waited
    milliseconds (benchmarks/README.md). A FIFO semaphore sized to the pool sets the order.
    """

    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float, request_timeout: float) -> None:
        self._pool = pool
        self.acquire_timeout = acquire_timeout  # DB_ACQUIRE_TIMEOUT_MS: the longest wait for a turn
        self.request_timeout = request_timeout  # DB_REQUEST_TIMEOUT_MS, live (set_request_timeout)
        self._turns = asyncio.Semaphore(pool.get_max_size())
        # The deadline of the turn being taken, for the connection asyncpg may open for it (connect).
        self.connect_by: float | None = None

    def deadline(self, seconds: float | None = None) -> Deadline:
        return Deadline(self.request_timeout if seconds is None else seconds)

    async def take(self, deadline: Deadline) -> asyncpg.Connection:
        """A connection, within ``deadline`` (and DB_ACQUIRE_TIMEOUT_MS of waiting for a turn)."""
        if self._turns.locked():  # every connection is out: wait for a turn, bounded
            async with asyncio.timeout(min(self.acquire_timeout, deadline.remaining())):
                await self._turns.acquire()
        else:  # a turn is free and taking it does not wait: no timer to arm and cancel
            await self._turns.acquire()
        try:
            # With a turn, a connection is idle or may be opened: asyncpg reaches connect() below
            # without yielding to another task, and connect() reads (and clears) the deadline.
            self.connect_by = deadline.at
            return await self._pool.acquire()
        except BaseException:
            self._turns.release()
            raise
        finally:
            self.connect_by = None

    async def give_back(self, connection: asyncpg.Connection, *, intact: bool) -> None:
        """Return ``connection``; one that is not ``intact`` is terminated, and its slot reopened later."""
        try:
            if not intact:
                connection.terminate()  # hands the slot back to asyncpg's pool at once, no I/O
            await self._pool.release(connection)  # an idle connection: no round trip (reset=)
        finally:
            self._turns.release()

    async def run(self, sql: str, args: Sequence[Any], *, seconds: float | None = None) -> list[Any]:
        """One statement outside a unit of work: the turn, the statement and the return share one deadline."""
        deadline = self.deadline(seconds)
        connection = await self.take(deadline)
        try:
            rows = await connection.fetch(sql, *args, timeout=deadline.remaining())
        except BaseException as exc:
            await self.give_back(connection, intact=answered(exc))
            raise
        await self.give_back(connection, intact=True)
        return rows  # type: ignore[no-any-return]

    # Piccolo's way in: ``await pool.acquire()`` (its transactions) and ``async with pool.acquire()``.
    def acquire(self, *, timeout: float | None = None) -> _Acquisition:
        return _Acquisition(self, self.deadline(timeout))

    async def release(self, connection: asyncpg.Connection, *, timeout: float | None = None) -> None:
        try:
            await self._pool.release(connection, timeout=timeout)
        finally:
            self._turns.release()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


class _Acquisition:
    __slots__ = ("_connection", "_deadline", "_pool")

    def __init__(self, pool: BoundedPool, deadline: Deadline) -> None:
        self._pool = pool
        self._deadline = deadline
        self._connection: asyncpg.Connection | None = None

    def __await__(self) -> Generator[Any, None, asyncpg.Connection]:
        return self._pool.take(self._deadline).__await__()

    async def __aenter__(self) -> asyncpg.Connection:
        self._connection = await self._pool.take(self._deadline)
        return self._connection

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        assert self._connection is not None
        await self._pool.give_back(self._connection, intact=exc is None or answered(exc))


class Connector:
    """What asyncpg's pool calls to open a connection: asyncpg's ``connect``, bounded by the
    deadline of the turn it opens it for (else by the pool's connect timeout)."""

    def __init__(self) -> None:
        self.pool: BoundedPool | None = None

    async def __call__(self, *args: Any, **kwargs: Any) -> asyncpg.Connection:
        by = self.pool.connect_by if self.pool is not None else None
        if by is not None:
            self.pool.connect_by = None  # type: ignore[union-attr]
            kwargs["timeout"] = max(min(kwargs.get("timeout") or float("inf"), by - _now()), 0.001)
        return await asyncpg.connect(*args, **kwargs)


class BoundedTransaction:
    """A PostgreSQL transaction whose every step shares one deadline.

    It stands where Piccolo keeps its own transaction (``engine.current_transaction``), so the
    statements of the repositories (adapters/db/sql.py) and Piccolo's own queries join it:
    both send ``transaction.connection.fetch(...)``, which is this object's ``fetch``.
    """

    __slots__ = ("_engine", "_pool", "_raw", "_token", "broken", "committed", "deadline")

    def __init__(self, engine: PostgresEngine, pool: BoundedPool, raw: asyncpg.Connection, deadline: Deadline) -> None:
        self._engine = engine
        self._pool = pool
        self._raw = raw
        self.deadline = deadline
        self.broken = False  # a call failed without the server's answer: the connection is cut at the end
        self.committed = False
        self._token: Any = None

    @classmethod
    async def begin(cls, engine: PostgresEngine, pool: BoundedPool) -> Self:
        deadline = pool.deadline()
        raw = await pool.take(deadline)
        transaction = cls(engine, pool, raw, deadline)
        try:
            await raw.execute("BEGIN", timeout=deadline.remaining())
        except BaseException as exc:
            await pool.give_back(raw, intact=answered(exc))
            raise
        transaction._token = engine.current_transaction.set(transaction)  # type: ignore[arg-type]
        return transaction

    @property
    def connection(self) -> Self:
        return self

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        try:
            return await self._raw.fetch(query, *args, timeout=self.deadline.remaining())  # type: ignore[no-any-return]
        except BaseException as exc:
            self.broken = self.broken or not answered(exc)
            raise

    async def commit(self) -> None:
        try:
            await self._raw.execute("COMMIT", timeout=self.deadline.remaining())
        except BaseException as exc:
            # No answer: committed or not, nobody can tell; the caller is told it failed (503).
            self.broken = self.broken or not answered(exc)
            raise
        self.committed = True

    async def close(self) -> None:
        """Roll back unless committed, and give the connection back (or cut it: see the module)."""
        self._engine.current_transaction.reset(self._token)
        intact = not self.broken
        try:
            if intact and not self.committed:
                await self._raw.execute("ROLLBACK", timeout=self.deadline.remaining())
        except BaseException as exc:
            intact = False  # cut instead: the server rolls back what a closed connection left open
            if not isinstance(exc, Exception):
                raise
        finally:
            await self._pool.give_back(self._raw, intact=intact)


@asynccontextmanager
async def transaction(engine: PostgresEngine, pool: BoundedPool) -> AsyncIterator[BoundedTransaction]:
    """A short transaction outside the use cases (a background job's batch): committed when the
    block ends normally, rolled back (or cut) otherwise; it never outlives its deadline, and it
    leaves ``engine.current_transaction`` as it found it, whatever happens (Piccolo's own leaves it
    set when its COMMIT fails, and every later query of that task then fails)."""
    opened = await BoundedTransaction.begin(engine, pool)
    try:
        yield opened
        await opened.commit()
    finally:
        await opened.close()
