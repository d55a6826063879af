-- adapters/db/sharing.py: every statement it can send. Rewritten by `uv run just sql-snapshot`.

-- IS_EDITOR
-- PostgreSQL
SELECT EXISTS (SELECT 1 FROM "post_editor" WHERE "post_id" = $1 AND "user_id" = $2) OR EXISTS (SELECT 1 FROM "post_editor_group" AS s JOIN "group_membership" AS m ON m."group_id" = s."group_id" WHERE s."post_id" = $1 AND m."user_id" = $2 AND m."active");
-- SQLite
SELECT EXISTS (SELECT 1 FROM "post_editor" WHERE "post_id" = ? AND "user_id" = ?) OR EXISTS (SELECT 1 FROM "post_editor_group" AS s JOIN "group_membership" AS m ON m."group_id" = s."group_id" WHERE s."post_id" = ? AND m."user_id" = ? AND m."active");

-- ADD_USER
-- PostgreSQL
INSERT INTO "post_editor" ("post_id", "user_id") VALUES ($1, $2) ON CONFLICT ("post_id", "user_id") DO NOTHING RETURNING "post_id";
-- SQLite
INSERT INTO "post_editor" ("post_id", "user_id") VALUES (?, ?) ON CONFLICT ("post_id", "user_id") DO NOTHING RETURNING "post_id";

-- REMOVE_USER
-- PostgreSQL
DELETE FROM "post_editor" WHERE "post_id" = $1 AND "user_id" = $2 RETURNING "post_id";
-- SQLite
DELETE FROM "post_editor" WHERE "post_id" = ? AND "user_id" = ? RETURNING "post_id";

-- ADD_GROUP
-- PostgreSQL
INSERT INTO "post_editor_group" ("post_id", "group_id") VALUES ($1, $2) ON CONFLICT ("post_id", "group_id") DO NOTHING RETURNING "post_id";
-- SQLite
INSERT INTO "post_editor_group" ("post_id", "group_id") VALUES (?, ?) ON CONFLICT ("post_id", "group_id") DO NOTHING RETURNING "post_id";

-- REMOVE_GROUP
-- PostgreSQL
DELETE FROM "post_editor_group" WHERE "post_id" = $1 AND "group_id" = $2 RETURNING "post_id";
-- SQLite
DELETE FROM "post_editor_group" WHERE "post_id" = ? AND "group_id" = ? RETURNING "post_id";

-- EDITORS
-- PostgreSQL
SELECT 'user' AS kind, "user_id" AS id FROM "post_editor" WHERE "post_id" = $1 UNION ALL SELECT 'group', "group_id" FROM "post_editor_group" WHERE "post_id" = $1 ORDER BY 1 DESC, 2;
-- SQLite
SELECT 'user' AS kind, "user_id" AS id FROM "post_editor" WHERE "post_id" = ? UNION ALL SELECT 'group', "group_id" FROM "post_editor_group" WHERE "post_id" = ? ORDER BY 1 DESC, 2;

-- GROUP_GET
-- PostgreSQL
SELECT "id", "name", "path", "synced_at_ms", "deleted" FROM "user_group" WHERE "id" = $1;
-- SQLite
SELECT "id", "name", "path", "synced_at_ms", "deleted" FROM "user_group" WHERE "id" = ?;

-- GROUP_GET_FOR_UPDATE
-- PostgreSQL
SELECT "id", "name", "path", "synced_at_ms", "deleted" FROM "user_group" WHERE "id" = $1 FOR UPDATE;
-- SQLite
SELECT "id", "name", "path", "synced_at_ms", "deleted" FROM "user_group" WHERE "id" = ?;

-- GROUP_INSERT_IF_ABSENT
-- PostgreSQL
INSERT INTO "user_group" ("id", "name", "path", "synced_at_ms", "deleted") VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("id") DO NOTHING;
-- SQLite
INSERT INTO "user_group" ("id", "name", "path", "synced_at_ms", "deleted") VALUES (?, ?, ?, ?, ?) ON CONFLICT ("id") DO NOTHING;

-- GROUP_UPSERT
-- PostgreSQL
INSERT INTO "user_group" ("id", "name", "path", "synced_at_ms", "deleted") VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "path" = EXCLUDED."path", "synced_at_ms" = EXCLUDED."synced_at_ms", "deleted" = EXCLUDED."deleted";
-- SQLite
INSERT INTO "user_group" ("id", "name", "path", "synced_at_ms", "deleted") VALUES (?, ?, ?, ?, ?) ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "path" = EXCLUDED."path", "synced_at_ms" = EXCLUDED."synced_at_ms", "deleted" = EXCLUDED."deleted";

-- MEMBERSHIP_GET
-- PostgreSQL
SELECT "group_id", "user_id", "active", "synced_at_ms" FROM "group_membership" WHERE "group_id" = $1 AND "user_id" = $2;
-- SQLite
SELECT "group_id", "user_id", "active", "synced_at_ms" FROM "group_membership" WHERE "group_id" = ? AND "user_id" = ?;

-- MEMBERSHIP_UPSERT
-- PostgreSQL
INSERT INTO "group_membership" ("group_id", "user_id", "active", "synced_at_ms") VALUES ($1, $2, $3, $4) ON CONFLICT ("group_id", "user_id") DO UPDATE SET "active" = EXCLUDED."active", "synced_at_ms" = EXCLUDED."synced_at_ms";
-- SQLite
INSERT INTO "group_membership" ("group_id", "user_id", "active", "synced_at_ms") VALUES (?, ?, ?, ?) ON CONFLICT ("group_id", "user_id") DO UPDATE SET "active" = EXCLUDED."active", "synced_at_ms" = EXCLUDED."synced_at_ms";

-- END_MEMBERSHIPS
-- PostgreSQL
DELETE FROM "group_membership" WHERE "group_id" = $1 RETURNING "user_id", "active";
-- SQLite
DELETE FROM "group_membership" WHERE "group_id" = ? RETURNING "user_id", "active";

-- END_SHARES
-- PostgreSQL
DELETE FROM "post_editor_group" WHERE "group_id" = $1 RETURNING "post_id";
-- SQLite
DELETE FROM "post_editor_group" WHERE "group_id" = ? RETURNING "post_id";
