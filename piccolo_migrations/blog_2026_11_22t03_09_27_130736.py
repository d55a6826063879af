"""Composite indexes for the listings (Piccolo's column API has single-column indexes only).

Plain CREATE INDEX IF NOT EXISTS, valid on SQLite and PostgreSQL alike.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from piccolo.engine import engine_finder

ID = "2026-11-22T03:09:27:130736"
VERSION = "1.38.0"
DESCRIPTION = "listing indexes"

INDEXES = {
    "post_owner_id_created_at": "post (owner_id, created_at)",
    "post_created_at": "post (created_at)",
    "comment_post_id_created_at": "comment (post_id, created_at)",
    "comment_owner_id_created_at": "comment (owner_id, created_at)",
    "comment_created_at": "comment (created_at)",
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
