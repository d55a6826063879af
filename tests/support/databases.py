"""Throwaway databases for tests: a fresh SQLite file, or a fresh database on the PostgreSQL
server that TEST_DATABASE_URL names (created here, dropped at the end)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from piccolo.engine.base import Engine

from adapters.db.engine import tables


def server_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def postgres_required() -> bool:
    return os.environ.get("REQUIRE_POSTGRES", "").lower() in {"1", "true", "yes"}


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def create_postgres_database(prefix: str = "test_blog", server: str | None = None) -> str:
    """A new, empty database named ``<prefix>_<random>`` on ``server`` (default TEST_DATABASE_URL);
    its URL. The benchmarks use it too (benchmarks/seed.py)."""
    base = server or server_url()
    assert base, "TEST_DATABASE_URL is not set"
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(base, timeout=5)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return _with_database(base, name)


async def drop_postgres_database(url: str, server: str | None = None) -> None:
    """Drop the database ``url`` names, connected to ``server`` (default TEST_DATABASE_URL)."""
    base = server or server_url()
    assert base
    name = urlsplit(url).path.lstrip("/")
    connection = await asyncpg.connect(base, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def reset(engine: Engine) -> None:  # type: ignore[type-arg]
    """Empty every table (children first), keeping the schema."""
    for table in reversed(tables()):
        await engine.run_ddl(f'DELETE FROM "{table._meta.tablename}"')


async def migrate_database(url: str, *, statement_timeout_ms: int = 60_000) -> None:
    """Apply every migration to the database ``url`` names (the benchmarks use it too)."""
    from adapters.db.engine import make_engine
    from adapters.db.lifecycle import close_database, migrate, open_database

    engine = make_engine(url)
    await open_database(
        engine, pool_min=1, pool_max=2, statement_timeout_ms=statement_timeout_ms, acquire_timeout_ms=5000
    )
    try:
        await migrate(engine)
    finally:
        await close_database(engine)


@asynccontextmanager
async def fresh_migrated(tmp_path: Path, *, postgres: bool) -> AsyncIterator[str]:
    """A database of its own with every migration applied: on the TEST_DATABASE_URL server when
    ``postgres`` (created and dropped here), else a SQLite file under ``tmp_path``."""
    url = await create_postgres_database("test_fresh") if postgres else f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    try:
        await migrate_database(url)
        yield url
    finally:
        if postgres:
            await drop_postgres_database(url)
