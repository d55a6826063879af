"""Fixtures of the tests that run the service as real processes (test_served.py, test_grpc_served.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support import databases
from tests.support.servers import Server


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated database of its own (the servers run migrations nowhere)."""
    if databases.server_url() is None and databases.postgres_required():
        pytest.fail("TEST_DATABASE_URL is required")
    async with databases.fresh_migrated(tmp_path, postgres=databases.server_url() is not None) as url:
        yield url


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Servers a test started; each is closed at the end, whatever happened."""
    started: list[Server] = []
    yield started
    for server in started:
        server.close()
