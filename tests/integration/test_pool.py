"""The PostgreSQL pool as adapters/db/lifecycle.py opens it: connections go back without asyncpg's
reset query but never with a transaction open; a wait for one is bounded. (The order in which
waiters are served: tests/unit/test_pool_order.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.db.engine import make_engine
from adapters.db.lifecycle import close_database, open_database

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
