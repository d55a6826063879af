"""Engine choice from DATABASE_URL: SQLite for development, PostgreSQL (asyncpg) otherwise."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table, sort_table_classes


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


@cache
def tables() -> list[type[Table]]:
    """Every Table defined in a module of this package, parents before children (by foreign key): a
    new resource's module needs no registration. (Piccolo's own ``table_finder`` does the same, but
    importing it loads the migration machinery and black: 114 modules and 3 MB more per worker.)"""
    found: list[type[Table]] = []
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name == "piccolo_app":  # Piccolo's CLI configuration (no table), and the heavy import
            continue
        module = importlib.import_module(f"adapters.db.{info.name}")
        found += [
            value
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Table) and value.__module__ == module.__name__
        ]
    return sort_table_classes(found)


def bind_tables(engine: Engine) -> None:  # type: ignore[type-arg]
    """Point every table at ``engine`` (instead of piccolo_conf's): Piccolo's own queries (its query
    builder's, migrations) then run on it, and tests can run their own engine."""
    for table in tables():
        table._meta.db = engine
