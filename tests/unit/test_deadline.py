"""The database deadline's rules (adapters/db/pool.py) on stand-ins for asyncpg: what is cut, what is
returned, what a failed COMMIT or ROLLBACK leaves. The real thing: tests/integration/test_pool.py and
tests/reliability/test_request_deadline.py."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import asyncpg
import pytest

from adapters.db.pool import BoundedPool, BoundedTransaction, Deadline, answered


class Connection:
    """Answers every call, or raises what ``fails`` names for a statement."""

    def __init__(self, fails: dict[str, BaseException] | None = None) -> None:
        self.fails = fails or {}
        self.sent: list[tuple[str, float]] = []
        self.terminated = False

    async def execute(self, query: str, *, timeout: float) -> str:
        return self._send(query, timeout)

    async def fetch(self, query: str, *args: Any, timeout: float) -> list[Any]:
        self._send(query, timeout)
        return [(1,)]

    def _send(self, query: str, timeout: float) -> str:
        self.sent.append((query, timeout))
        if query in self.fails:
            raise self.fails[query]
        return query

    def terminate(self) -> None:
        self.terminated = True


class Pool:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.released: list[Connection] = []

    def get_max_size(self) -> int:
        return 1

    async def acquire(self) -> Connection:
        return self.connection

    async def release(self, connection: Connection, *, timeout: float | None = None) -> None:
        self.released.append(connection)


class Engine:
    """What a transaction touches of Piccolo's engine: where the current transaction is kept."""

    def __init__(self) -> None:
        self.current_transaction: ContextVar[Any] = ContextVar("current_transaction", default=None)


def bounded(connection: Connection, budget: float = 60.0) -> tuple[Any, BoundedPool, Pool]:
    engine = Engine()
    raw = Pool(connection)
    return engine, BoundedPool(raw, acquire_timeout=1.0, request_timeout=budget), raw  # type: ignore[arg-type]


def test_a_deadline_that_has_passed_lets_nothing_more_be_sent():
    assert 0 < Deadline(60).remaining() <= 60
    with pytest.raises(TimeoutError):
        Deadline(0).remaining()


def test_only_an_error_the_server_answered_leaves_the_connection_reusable():
    assert answered(asyncpg.UniqueViolationError("duplicate"))
    assert answered(asyncpg.QueryCanceledError("statement timeout"))
    for unknown in (TimeoutError(), OSError(), asyncpg.InterfaceError("closed"), asyncpg.ConnectionDoesNotExistError()):
        assert not answered(unknown), unknown


async def test_every_step_gets_what_is_left_of_one_deadline_and_a_clean_end_returns_the_connection():
    connection = Connection()
    engine, pool, raw = bounded(connection, budget=60)
    transaction = await BoundedTransaction.begin(engine, pool)
    assert engine.current_transaction.get() is transaction  # Piccolo's queries join it
    await transaction.connection.fetch("SELECT 1")
    await transaction.commit()
    await transaction.close()
    assert [query for query, _ in connection.sent] == ["BEGIN", "SELECT 1", "COMMIT"]
    timeouts = [timeout for _, timeout in connection.sent]
    assert timeouts == sorted(timeouts, reverse=True)
    assert all(timeout <= 60 for timeout in timeouts)
    assert engine.current_transaction.get() is None
    assert (raw.released, connection.terminated) == ([connection], False)


async def test_a_commit_without_an_answer_is_an_error_and_its_connection_is_cut():
    connection = Connection({"COMMIT": TimeoutError()})
    engine, pool, _ = bounded(connection)
    transaction = await BoundedTransaction.begin(engine, pool)
    with pytest.raises(TimeoutError):
        await transaction.commit()
    assert not transaction.committed
    await transaction.close()
    assert "ROLLBACK" not in [query for query, _ in connection.sent]  # nothing more on a connection in doubt
    assert connection.terminated
    assert engine.current_transaction.get() is None


async def test_a_rollback_that_cannot_finish_cuts_the_connection_instead_of_returning_it():
    connection = Connection({"ROLLBACK": TimeoutError()})
    engine, pool, raw = bounded(connection)
    transaction = await BoundedTransaction.begin(engine, pool)
    await transaction.close()  # the use case refused: roll back, which does not answer
    assert connection.terminated
    assert raw.released == [connection]  # asyncpg's pool learns of the closed connection and drops it
    assert pool._turns.locked() is False  # the turn is free again


async def test_a_statement_refused_by_the_server_keeps_the_connection_and_rolls_back_politely():
    connection = Connection({"INSERT": asyncpg.UniqueViolationError("duplicate")})
    engine, pool, _ = bounded(connection)
    transaction = await BoundedTransaction.begin(engine, pool)
    with pytest.raises(asyncpg.UniqueViolationError):
        await transaction.fetch("INSERT")
    await transaction.close()
    assert connection.sent[-1][0] == "ROLLBACK"
    assert not connection.terminated


async def test_a_read_outside_a_unit_of_work_that_gets_no_answer_cuts_its_connection():
    connection = Connection({"SELECT 1": TimeoutError()})
    _, pool, raw = bounded(connection)
    with pytest.raises(TimeoutError):
        await pool.run("SELECT 1", ())
    assert connection.terminated
    assert raw.released == [connection]
    assert not pool._turns.locked()
