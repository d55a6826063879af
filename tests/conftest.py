"""Shared fixtures: databases on both engines, test tokens, and the app over HTTP.

``db_url`` is parametrized over SQLite and PostgreSQL: a test that takes it (directly or via
``engine`` / ``client``) runs once per engine. PostgreSQL runs when TEST_DATABASE_URL names a
server; with REQUIRE_POSTGRES=1 (as .ci/run sets) a missing server fails the run instead of
skipping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from lagom import Container
from litestar.testing import AsyncTestClient

from adapters.auth.keys import KeySource
from adapters.db.engine import make_engine
from adapters.db.lifecycle import close_database, migrate, open_database
from app.container import build_container
from app.main import create_app
from app.settings import Settings
from app.settings_layers import decode_settings
from tests.support import databases
from tests.support.tokens import TestKeys

ENGINES = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def keys() -> TestKeys:
    return TestKeys()


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str | None]:
    if databases.server_url() is None:
        yield None
        return
    url = await databases.create_postgres_database()
    try:
        yield url
    finally:
        await databases.drop_postgres_database(url)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"


_migrated: set[str] = set()


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, sqlite_url: str, postgres_url: str | None) -> str:
    if request.param == "sqlite":
        return sqlite_url
    if postgres_url is None:
        message = "PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres)"
        if databases.postgres_required():
            pytest.fail(message)
        pytest.skip(message)
    request.applymarker(pytest.mark.postgres)
    return postgres_url


def settings_env(db_url: str, tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment the tests' app runs with."""
    return {
        "APP_ENV": "test",
        "DATABASE_URL": db_url,
        "DB_AUTO_MIGRATE": "true",
        "DB_POOL_MIN": "1",
        "DB_POOL_MAX": "10",
        "VAR_DIR": str(tmp_path / "var"),
        **overrides,
    }


def settings_for(db_url: str, tmp_path: Path, **overrides: str) -> Settings:
    return decode_settings([("env", settings_env(db_url, tmp_path, **overrides))]).settings


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[Any]:
    """An open engine on a migrated, empty database; the Piccolo tables are bound to it."""
    engine = make_engine(db_url)
    await open_database(engine, pool_min=1, pool_max=10, statement_timeout_ms=5000, acquire_timeout_ms=2000)
    if db_url not in _migrated:
        await migrate(engine)
        _migrated.add(db_url)
    await databases.reset(engine)
    try:
        yield engine
    finally:
        await close_database(engine)


@pytest.fixture
def make_container(db_url: str, tmp_path: Path, keys: TestKeys) -> Callable[..., Container]:
    """Builds the app's real container for a test database, with the tests' signing key; ``ports``
    replaces bindings (e.g. ``{Engine: engine}``: the ``engine`` fixture's), ``env`` settings."""

    def make(ports: Mapping[Any, Any] | None = None, **env: str) -> Container:
        return build_container(settings_for(db_url, tmp_path, **env), overrides={KeySource: keys, **(ports or {})})

    return make


@pytest.fixture
async def client(engine: Any, make_container: Callable[..., Container]) -> AsyncIterator[AsyncTestClient[Any]]:
    """The whole app over HTTP, its lifespan run (pool opened, migrations applied), on an empty database.

    AsyncTestClient runs the app, lifespan and requests alike, on an event loop of its own in a
    portal thread, so the app's pool lives there: inspect the database through HTTP, or through
    ``client.blocking_portal``, not through the ``engine`` fixture (which emptied it beforehand).
    """
    async with AsyncTestClient(app=create_app(make_container())) as test_client:
        yield test_client
