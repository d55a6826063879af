"""The sharing tables' pairs, unique, and their lookups (Piccolo's column API has single-column
indexes only, and runs a migration's raw SQL before its tables: hence a migration of their own).

Plain CREATE [UNIQUE] INDEX IF NOT EXISTS (a partial one too), valid on SQLite and PostgreSQL alike.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from piccolo.engine import engine_finder

ID = "2026-12-06T23:11:16:000000"
VERSION = "1.38.0"
DESCRIPTION = "sharing indexes"

INDEXES = {
    # The upserts' ON CONFLICT targets, and the share check by post (adapters/db/sharing.py: IS_EDITOR).
    "post_editor_pair": "UNIQUE INDEX IF NOT EXISTS post_editor_pair ON post_editor (post_id, user_id)",
    "post_editor_group_pair": "UNIQUE INDEX IF NOT EXISTS post_editor_group_pair ON post_editor_group (post_id, group_id)",
    "group_membership_pair": "UNIQUE INDEX IF NOT EXISTS group_membership_pair ON group_membership (group_id, user_id)",
    # The editable listing, by user (adapters/db/posts.py: EDITABLE_BY); a group's end, by group.
    "post_editor_user": "INDEX IF NOT EXISTS post_editor_user ON post_editor (user_id, post_id)",
    "post_editor_group_group": "INDEX IF NOT EXISTS post_editor_group_group ON post_editor_group (group_id, post_id)",
    "group_membership_user": "INDEX IF NOT EXISTS group_membership_user ON group_membership (user_id, group_id) WHERE active",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="blog", description=DESCRIPTION)

    async def create_indexes():
        for statement in INDEXES.values():
            await engine_finder().run_ddl(f"CREATE {statement}")

    async def drop_indexes():
        for name in INDEXES:
            await engine_finder().run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
