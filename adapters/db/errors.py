"""Which driver errors mean "the database is unavailable" (→ 503), as opposed to a bug (→ 500), and
which mean "a unique index refused the value" (→ 409 where the statement expects it, adapters/db/sql.py)."""

from __future__ import annotations

import sqlite3

import asyncpg

from domain.errors import DependencyUnavailable

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable
    TimeoutError,  # pool acquire or client-side statement timeout
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # connection closed underneath us
    asyncpg.QueryCanceledError,  # server-side statement_timeout
    asyncpg.AdminShutdownError,  # pg_terminate_backend, server shutting down
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)


def as_unavailable(exc: BaseException) -> DependencyUnavailable | None:
    if isinstance(exc, DependencyUnavailable):
        return None
    if isinstance(exc, _UNAVAILABLE) or (isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)):
        return DependencyUnavailable("database", "the database did not answer in time; try again")
    return None


def is_unique_violation(exc: BaseException) -> bool:
    return isinstance(exc, asyncpg.UniqueViolationError) or (
        isinstance(exc, sqlite3.IntegrityError) and str(exc).startswith("UNIQUE constraint failed")
    )
