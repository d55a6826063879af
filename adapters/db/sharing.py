"""Shares and Keycloak groups in the database: the tables, and every statement the sharing and
group repositories and the built-in authorizer send.

Piccolo tables have a one-column primary key; the pairs (post, user), (post, group), (group, user)
are unique by index instead (migration "sharing"), which the upserts' ON CONFLICT name. The indexes
serve the share check (by post, then user), the editable listing (by user: adapters/db/posts.py,
``LISTING``) and a group's end (by group).
"""

from __future__ import annotations

import uuid
from typing import Any

from piccolo.columns import UUID, BigInt, Boolean, ForeignKey, Varchar
from piccolo.columns.base import OnDelete
from piccolo.engine.base import Engine
from piccolo.table import Table

from adapters.db.posts import PostTable
from adapters.db.sql import Statement, fetch
from adapters.db.users import UserTable
from domain.sharing import GROUP_NAME_MAX_LENGTH, GROUP_PATH_MAX_LENGTH, Editors, Group, Membership


class UserGroupTable(Table, tablename="user_group"):  # "group" is reserved in SQL
    id = UUID(primary_key=True)
    name = Varchar(length=GROUP_NAME_MAX_LENGTH)
    path = Varchar(length=GROUP_PATH_MAX_LENGTH)
    synced_at_ms = BigInt()
    deleted = Boolean(default=False)


class GroupMembershipTable(Table, tablename="group_membership"):
    group_id = ForeignKey(references=UserGroupTable, on_delete=OnDelete.cascade, null=False)
    # No foreign key: Keycloak may announce a membership before the user's first request or event.
    user_id = UUID()
    active = Boolean(default=True)
    synced_at_ms = BigInt()


class PostEditorTable(Table, tablename="post_editor"):
    post_id = ForeignKey(references=PostTable, on_delete=OnDelete.cascade, null=False)
    user_id = ForeignKey(references=UserTable, on_delete=OnDelete.cascade, null=False)


class PostEditorGroupTable(Table, tablename="post_editor_group"):
    post_id = ForeignKey(references=PostTable, on_delete=OnDelete.cascade, null=False)
    group_id = ForeignKey(references=UserGroupTable, on_delete=OnDelete.cascade, null=False)


# The share check: one statement, two index probes (post_editor_pair; post_editor_group_pair, then
# group_membership_pair). The owner is decided from the row before this is asked.
IS_EDITOR = Statement(
    'SELECT EXISTS (SELECT 1 FROM "post_editor" WHERE "post_id" = $1 AND "user_id" = $2) '
    'OR EXISTS (SELECT 1 FROM "post_editor_group" AS s JOIN "group_membership" AS m ON m."group_id" = s."group_id" '
    'WHERE s."post_id" = $1 AND m."user_id" = $2 AND m."active")'
)
ADD_USER = Statement(
    'INSERT INTO "post_editor" ("post_id", "user_id") VALUES ($1, $2) ON CONFLICT ("post_id", "user_id") DO NOTHING RETURNING "post_id"'
)
REMOVE_USER = Statement('DELETE FROM "post_editor" WHERE "post_id" = $1 AND "user_id" = $2 RETURNING "post_id"')
ADD_GROUP = Statement(
    'INSERT INTO "post_editor_group" ("post_id", "group_id") VALUES ($1, $2) ON CONFLICT ("post_id", "group_id") DO NOTHING '
    'RETURNING "post_id"'
)
REMOVE_GROUP = Statement('DELETE FROM "post_editor_group" WHERE "post_id" = $1 AND "group_id" = $2 RETURNING "post_id"')
EDITORS = Statement(
    'SELECT \'user\' AS kind, "user_id" AS id FROM "post_editor" WHERE "post_id" = $1 '
    'UNION ALL SELECT \'group\', "group_id" FROM "post_editor_group" WHERE "post_id" = $1 ORDER BY 1 DESC, 2'
)

GROUP_GET = Statement('SELECT "id", "name", "path", "synced_at_ms", "deleted" FROM "user_group" WHERE "id" = $1')
GROUP_GET_FOR_UPDATE = Statement(
    'SELECT "id", "name", "path", "synced_at_ms", "deleted" FROM "user_group" WHERE "id" = $1 FOR UPDATE',
    sqlite=GROUP_GET,  # no row locks: SQLite's IMMEDIATE transaction already holds the whole database
)
GROUP_INSERT_IF_ABSENT = Statement(
    'INSERT INTO "user_group" ("id", "name", "path", "synced_at_ms", "deleted") VALUES ($1, $2, $3, $4, $5) '
    'ON CONFLICT ("id") DO NOTHING'
)
GROUP_UPSERT = Statement(
    'INSERT INTO "user_group" ("id", "name", "path", "synced_at_ms", "deleted") VALUES ($1, $2, $3, $4, $5) '
    'ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "path" = EXCLUDED."path", '
    '"synced_at_ms" = EXCLUDED."synced_at_ms", "deleted" = EXCLUDED."deleted"'
)
MEMBERSHIP_GET = Statement(
    'SELECT "group_id", "user_id", "active", "synced_at_ms" FROM "group_membership" WHERE "group_id" = $1 AND "user_id" = $2'
)
MEMBERSHIP_UPSERT = Statement(
    'INSERT INTO "group_membership" ("group_id", "user_id", "active", "synced_at_ms") VALUES ($1, $2, $3, $4) '
    'ON CONFLICT ("group_id", "user_id") DO UPDATE SET "active" = EXCLUDED."active", '
    '"synced_at_ms" = EXCLUDED."synced_at_ms"'
)
END_MEMBERSHIPS = Statement('DELETE FROM "group_membership" WHERE "group_id" = $1 RETURNING "user_id", "active"')
END_SHARES = Statement('DELETE FROM "post_editor_group" WHERE "group_id" = $1 RETURNING "post_id"')


def _uuid(value: Any) -> uuid.UUID:
    """SQLite hands back a UUID as text where the statement loses the column's declared type (UNION, RETURNING)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


class PiccoloSharingRepository:
    def __init__(self, engine: Engine) -> None:  # type: ignore[type-arg]
        self._engine = engine

    async def add_user(self, post_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        return bool(await fetch(self._engine, ADD_USER, post_id, user_id))

    async def remove_user(self, post_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        return bool(await fetch(self._engine, REMOVE_USER, post_id, user_id))

    async def add_group(self, post_id: uuid.UUID, group_id: uuid.UUID) -> bool:
        return bool(await fetch(self._engine, ADD_GROUP, post_id, group_id))

    async def remove_group(self, post_id: uuid.UUID, group_id: uuid.UUID) -> bool:
        return bool(await fetch(self._engine, REMOVE_GROUP, post_id, group_id))

    async def editors(self, post_id: uuid.UUID) -> Editors:
        rows = await fetch(self._engine, EDITORS, post_id)
        return Editors(
            users=[_uuid(id_) for kind, id_ in rows if kind == "user"],
            groups=[_uuid(id_) for kind, id_ in rows if kind == "group"],
        )

    async def is_editor(self, post_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """For the built-in authorizer (adapters/authz/builtin.py)."""
        return bool((await fetch(self._engine, IS_EDITOR, post_id, user_id))[0][0])


class PiccoloGroupRepository:
    def __init__(self, engine: Engine) -> None:  # type: ignore[type-arg]
        self._engine = engine

    async def get(self, group_id: uuid.UUID, *, for_update: bool = False) -> Group | None:
        rows = await fetch(self._engine, GROUP_GET_FOR_UPDATE if for_update else GROUP_GET, group_id)
        if not rows:
            return None
        id_, name, path, synced_at_ms, deleted = rows[0]
        return Group(_uuid(id_), name, path, synced_at_ms, bool(deleted))

    async def add_if_absent(self, group: Group) -> None:
        await fetch(
            self._engine, GROUP_INSERT_IF_ABSENT, group.id, group.name, group.path, group.synced_at_ms, group.deleted
        )

    async def save(self, group: Group) -> None:
        await fetch(self._engine, GROUP_UPSERT, group.id, group.name, group.path, group.synced_at_ms, group.deleted)

    async def membership(self, group_id: uuid.UUID, user_id: uuid.UUID) -> Membership | None:
        rows = await fetch(self._engine, MEMBERSHIP_GET, group_id, user_id)
        if not rows:
            return None
        group, user, active, synced_at_ms = rows[0]
        return Membership(_uuid(group), _uuid(user), bool(active), synced_at_ms)

    async def save_membership(self, membership: Membership) -> None:
        await fetch(
            self._engine,
            MEMBERSHIP_UPSERT,
            membership.group_id,
            membership.user_id,
            membership.active,
            membership.synced_at_ms,
        )

    async def end(self, group_id: uuid.UUID) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
        members = await fetch(self._engine, END_MEMBERSHIPS, group_id)
        shares = await fetch(self._engine, END_SHARES, group_id)
        return sorted(_uuid(user) for user, active in members if active), sorted(_uuid(post) for (post,) in shares)
