-- adapters/db/users.py: every statement it can send. Rewritten by `uv run just sql-snapshot`.

-- GET
-- PostgreSQL
SELECT "id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms" FROM "users" WHERE "id" = $1;
-- SQLite
SELECT "id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms" FROM "users" WHERE "id" = ?;

-- GET_FOR_UPDATE
-- PostgreSQL
SELECT "id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms" FROM "users" WHERE "id" = $1 FOR UPDATE;
-- SQLite
SELECT "id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms" FROM "users" WHERE "id" = ?;

-- INSERT_IF_ABSENT
-- PostgreSQL
INSERT INTO "users" ("id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT ("id") DO NOTHING RETURNING "id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms";
-- SQLite
INSERT INTO "users" ("id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms") VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT ("id") DO NOTHING RETURNING "id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms";

-- UPSERT
-- PostgreSQL
INSERT INTO "users" ("id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT ("id") DO UPDATE SET "username" = EXCLUDED."username", "full_name" = EXCLUDED."full_name", "email" = EXCLUDED."email", "is_active" = EXCLUDED."is_active", "updated_at" = EXCLUDED."updated_at", "synced_at_ms" = EXCLUDED."synced_at_ms";
-- SQLite
INSERT INTO "users" ("id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms") VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT ("id") DO UPDATE SET "username" = EXCLUDED."username", "full_name" = EXCLUDED."full_name", "email" = EXCLUDED."email", "is_active" = EXCLUDED."is_active", "updated_at" = EXCLUDED."updated_at", "synced_at_ms" = EXCLUDED."synced_at_ms";
