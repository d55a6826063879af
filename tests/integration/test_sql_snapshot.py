"""The SQL snapshot (tests/snapshots/sql/) is what the code sends, and every statement in it is valid
on both engines: a change of SQL cannot pass without showing in the snapshot's diff."""

from __future__ import annotations

import sqlite3

from tests.support import sql_snapshot


def test_the_snapshot_is_what_the_repositories_and_readers_send():
    wanted = sql_snapshot.expected()
    stored = {path.name: path.read_text() for path in sql_snapshot.SNAPSHOT_DIR.glob("*.sql")}
    assert set(stored) == set(wanted), "run `uv run just sql-snapshot` and commit tests/snapshots/sql/"
    for name, text in wanted.items():
        assert stored[name] == text, f"{name} is stale: run `uv run just sql-snapshot` and review the diff"


def test_a_changed_statement_is_caught(monkeypatch):
    from adapters.db import users

    monkeypatch.setattr(users, "GET", users.Statement('SELECT * FROM "users" WHERE "id" = $1 OR TRUE'))
    assert sql_snapshot.expected()["users.sql"] != (sql_snapshot.SNAPSHOT_DIR / "users.sql").read_text()


async def test_every_statement_is_valid_on_the_engine(engine, db_url):
    """Prepared by PostgreSQL (parsed, names resolved, types inferred; nothing runs), or EXPLAINed by
    SQLite, each with the tables the migrations made."""
    checked = 0
    for entries in sql_snapshot.statements().values():
        for _, statement in entries:
            if db_url.startswith("sqlite"):
                with sqlite3.connect(engine.path) as connection:
                    connection.execute(f"EXPLAIN {statement.sqlite}", [None] * statement.sqlite.count("?"))
            else:
                async with engine.pool.acquire() as connection:
                    await connection.prepare(statement.postgres)
            checked += 1
    assert checked >= 6, "users' and the service context's at least"
    # region: blog
    assert checked > 100, "every listing variant is among them"
    # endregion
