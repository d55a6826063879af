"""A pooled PostgreSQL connection goes back to the pool without asyncpg's reset query
(adapters/db/lifecycle.py), but never with a transaction still open."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_a_connection_released_inside_a_transaction_comes_back_without_it(engine):
    async with engine.pool.acquire() as connection:
        await connection.execute("BEGIN")
        await connection.execute("SELECT 1")
        assert connection.is_in_transaction()
        backend = connection.get_server_pid()
    # The fixture's pool holds one connection until two are wanted at once: this is the same one.
    async with engine.pool.acquire() as connection:
        assert connection.get_server_pid() == backend
        assert not connection.is_in_transaction()
        assert await connection.fetchval("SELECT txid_current_if_assigned()") is None
