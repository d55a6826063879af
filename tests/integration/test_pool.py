"""The PostgreSQL pool as adapters/db/lifecycle.py opens it: connections go back without asyncpg's
reset query but never with a transaction open; a wait for one is bounded; a unit of work's database
work shares one deadline, and a connection it cut is terminated (adapters/db/pool.py). (The order in
which waiters are served: tests/unit/test_pool_order.py; a frozen server:
tests/reliability/test_request_deadline.py.)"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from adapters.db.engine import make_engine
from adapters.db.lifecycle import close_database, open_database
from adapters.db.sql import Statement, fetch
from adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from domain.errors import DependencyUnavailable

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


@pytest.fixture
async def one_connection(db_url: str) -> AsyncIterator[Any]:
    """An engine whose pool holds exactly one connection, waits at most 0.3 s for it."""
    engine = make_engine(db_url)
    await open_database(engine, pool_min=1, pool_max=1, statement_timeout_ms=5000, acquire_timeout_ms=300)
    try:
        yield engine.pool
    finally:
        await close_database(engine)


async def test_a_connection_released_inside_a_transaction_comes_back_without_it(one_connection):
    async with one_connection.acquire() as connection:
        await connection.execute("BEGIN")
        await connection.execute("SELECT 1")
        assert connection.is_in_transaction()
        backend = connection.get_server_pid()
    async with one_connection.acquire() as connection:
        assert connection.get_server_pid() == backend  # the same connection: the pool has one
        assert not connection.is_in_transaction()
        assert await connection.fetchval("SELECT txid_current_if_assigned()") is None


async def test_a_wait_for_a_connection_is_bounded_and_leaves_nothing_held(one_connection):
    holder = await one_connection.acquire()
    with pytest.raises(TimeoutError):
        await one_connection.acquire()
    await one_connection.release(holder)
    async with one_connection.acquire() as connection:  # the timed-out wait gave its turn back
        assert await connection.fetchval("SELECT 1") == 1


@pytest.fixture
async def budget(db_url: str) -> AsyncIterator[Any]:
    """An engine whose pool holds one connection, with a database budget of 0.5 s per unit of work."""
    engine = make_engine(db_url)
    await open_database(
        engine, pool_min=1, pool_max=1, statement_timeout_ms=30_000, acquire_timeout_ms=2000, request_timeout_ms=500
    )
    try:
        yield engine
    finally:
        await close_database(engine)


SLEEP = Statement("SELECT pg_sleep(0.3)")
PID = Statement("SELECT pg_backend_pid()")


async def test_the_statements_of_a_unit_of_work_share_one_deadline(budget):
    """Each sleep alone fits in the budget (and far in the statement timeout); two do not."""
    slept = 0
    with pytest.raises(DependencyUnavailable):
        async with PiccoloUnitOfWorkFactory(budget)():
            for _ in range(3):
                await fetch(budget, SLEEP)
                slept += 1
    assert slept == 1
    assert len(await fetch(budget, SLEEP)) == 1  # outside a unit of work: a deadline of its own


async def test_a_connection_cut_by_the_deadline_is_terminated_not_returned(budget):
    (before,) = (await fetch(budget, PID))[0]
    with pytest.raises(DependencyUnavailable):
        async with PiccoloUnitOfWorkFactory(budget)():
            await fetch(budget, Statement("SELECT pg_sleep(2)"))
    (after,) = (await fetch(budget, PID))[0]  # the pool's only slot, reconnected
    assert after != before
    gone = Statement("SELECT count(*) FROM pg_stat_activity WHERE pid = $1")
    async with asyncio.timeout(10):  # the server notices the closed socket when the sleep ends
        while (await fetch(budget, gone, before))[0][0]:  # noqa: ASYNC110 - the state is the server's
            await asyncio.sleep(0.05)


async def test_a_commit_that_does_not_answer_in_time_is_a_failure_never_a_success(budget):
    """A deferred trigger makes COMMIT itself outlast the budget: the caller hears 503, not 201."""
    admin = await asyncpg.connect(budget.config["dsn"])
    table = f"slow_commit_{uuid.uuid4().hex[:8]}"
    try:
        await admin.execute(
            f"CREATE TABLE {table} (id int);"
            f"CREATE FUNCTION {table}() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$;"
            f"CREATE CONSTRAINT TRIGGER {table} AFTER INSERT ON {table} DEFERRABLE INITIALLY DEFERRED"
            f" FOR EACH ROW EXECUTE FUNCTION {table}()"
        )
        committed = False
        with pytest.raises(DependencyUnavailable):
            async with PiccoloUnitOfWorkFactory(budget)() as uow:
                await fetch(budget, Statement(f"INSERT INTO {table} VALUES (1)"))
                await uow.commit()
                committed = True
        assert not committed
        assert (await fetch(budget, PID))[0][0]  # and the pool serves the next unit of work
    finally:
        await admin.execute(f"DROP TABLE {table}; DROP FUNCTION {table}()")
        await admin.close()
