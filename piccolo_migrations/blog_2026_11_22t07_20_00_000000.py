"""Exact row counts of posts and comments that cost the same on any table size (PostgreSQL).

An unfiltered listing's ``total`` was ``COUNT(*)`` over the whole table: an index-only scan, 2.6 ms
per 10,000 rows, paid by every ``GET /v1/posts``. Instead, statement-level triggers append one
row per INSERT or DELETE statement to ``row_count_delta`` (+n or -n, with n the rows the statement
touched; COPY and ON DELETE CASCADE fire them too), so the count is the sum of a few small rows.
Concurrent writers each insert their own row: no hot row, no lock between them.
``adapters/db/row_counts.py`` folds the rows of a table into one every second (exact: a fold
deletes rows and inserts their sum in one statement); the sum is exact at every moment whether
or not a fold ran. SQLite (development and tests) keeps counting with ``COUNT(*)``.

``install`` is idempotent: it takes a lock that stops writes to the tables for the few statements
it runs, so the backfilled counts and the triggers start from the same state.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

from piccolo.engine import engine_finder

ID = "2026-11-22T07:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "row counts"

COUNTED = ("post", "comment")

_SETUP = [
    "CREATE TABLE IF NOT EXISTS row_count_delta (relation text NOT NULL, delta bigint NOT NULL)",
    "CREATE INDEX IF NOT EXISTS row_count_delta_relation ON row_count_delta (relation)",
    """CREATE OR REPLACE FUNCTION row_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO row_count_delta (relation, delta) SELECT TG_TABLE_NAME, count(*) FROM new_rows HAVING count(*) > 0;
    RETURN NULL;
END $$""",
    """CREATE OR REPLACE FUNCTION row_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO row_count_delta (relation, delta) SELECT TG_TABLE_NAME, -count(*) FROM old_rows HAVING count(*) > 0;
    RETURN NULL;
END $$""",
    """CREATE OR REPLACE FUNCTION row_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM row_count_delta WHERE relation = TG_TABLE_NAME;
    RETURN NULL;
END $$""",
]


def _per_table(table: str) -> list[str]:
    return [
        f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE",
        f"CREATE OR REPLACE TRIGGER {table}_count_insert AFTER INSERT ON {table} "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION row_count_inserted()",
        f"CREATE OR REPLACE TRIGGER {table}_count_delete AFTER DELETE ON {table} "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION row_count_deleted()",
        f"CREATE OR REPLACE TRIGGER {table}_count_truncate AFTER TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION row_count_truncated()",
        f"DELETE FROM row_count_delta WHERE relation = '{table}'",
        f"INSERT INTO row_count_delta (relation, delta) SELECT '{table}', count(*) FROM {table}",
    ]


_TEARDOWN = [
    *(f"DROP TRIGGER IF EXISTS {t}_count_{op} ON {t}" for t in COUNTED for op in ("insert", "delete", "truncate")),
    "DROP FUNCTION IF EXISTS row_count_inserted()",
    "DROP FUNCTION IF EXISTS row_count_deleted()",
    "DROP FUNCTION IF EXISTS row_count_truncated()",
    "DROP TABLE IF EXISTS row_count_delta",
]


async def install() -> None:
    """Create (or re-create) the counting and set each count from the table; run in a transaction."""
    engine = engine_finder()
    if not isinstance(engine, PostgresEngine):
        return
    for statement in [*_SETUP, *(s for table in COUNTED for s in _per_table(table))]:
        await engine.run_ddl(statement)


async def uninstall() -> None:
    engine = engine_finder()
    if not isinstance(engine, PostgresEngine):
        return
    for statement in _TEARDOWN:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="blog", description=DESCRIPTION)
    manager.add_raw(install)
    manager.add_raw_backwards(uninstall)
    return manager
