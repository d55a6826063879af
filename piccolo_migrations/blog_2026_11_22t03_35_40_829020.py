"""Partial indexes over the outbox's pending rows, so the relay's claim, its per-object ordering
check and the backlog report stay cheap however many delivered rows are kept; and one over the
delivered rows for the purge. Plain CREATE INDEX ... WHERE, valid on SQLite and PostgreSQL alike.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from piccolo.engine import engine_finder

ID = "2026-11-22T03:35:40:829020"
VERSION = "1.38.0"
DESCRIPTION = "outbox indexes"

INDEXES = {
    "relation_outbox_pending": "relation_outbox (id) WHERE delivered_at IS NULL",
    "relation_outbox_pending_object": "relation_outbox (object, id) WHERE delivered_at IS NULL",
    "relation_outbox_delivered": "relation_outbox (delivered_at) WHERE delivered_at IS NOT NULL",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="blog", description=DESCRIPTION)

    async def create_indexes():
        for name, target in INDEXES.items():
            await engine_finder().run_ddl(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")

    async def drop_indexes():
        for name in INDEXES:
            await engine_finder().run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
