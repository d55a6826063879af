"""Engine choice from DATABASE_URL: SQLite for development, PostgreSQL (asyncpg) otherwise."""

from __future__ import annotations

from urllib.parse import urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite:")


def sqlite_path(url: str) -> str:
    # sqlite:///./var/app.sqlite3 → ./var/app.sqlite3 ; sqlite:////abs/path → /abs/path
    return url.removeprefix("sqlite://").removeprefix("/") or ":memory:"


def make_engine(url: str, *, statement_timeout_ms: int = 5000) -> Engine:  # type: ignore[type-arg]
    if is_sqlite(url):
        path = sqlite_path(url)
        # No directory is made here (importing piccolo_conf builds an engine): open_database does.
        # timeout: how long a writer waits for SQLite's lock before "database is locked".
        return SQLiteEngine(path=path, timeout=statement_timeout_ms / 1000)
    parts = urlsplit(url)
    if parts.scheme not in {"postgresql", "postgres", "postgresql+asyncpg"}:
        raise ValueError(f"unsupported database URL scheme {parts.scheme!r}")
    return PostgresEngine(
        config={"dsn": url.replace("postgresql+asyncpg://", "postgresql://")},
        log_queries=False,
    )


def bind_tables(engine: Engine) -> None:  # type: ignore[type-arg]
    """Point every table at ``engine`` (instead of piccolo_conf's): Piccolo's own queries (the outbox,
    migrations) then run on it, and tests can run their own engine."""
    from adapters.db.piccolo_app import TABLES  # it imports every module of the package, this one included

    for table in TABLES:
        table._meta.db = engine
