-- adapters/db/service_context.py: every statement it can send. Rewritten by `uv run just sql-snapshot`.

-- GET
-- PostgreSQL
SELECT "maintenance", "updated_at", "updated_by" FROM "service_context" WHERE "id" = 1;
-- SQLite
SELECT "maintenance", "updated_at", "updated_by" FROM "service_context" WHERE "id" = 1;

-- UPSERT
-- PostgreSQL
INSERT INTO "service_context" ("id", "maintenance", "updated_at", "updated_by") VALUES (1, $1, $2, $3) ON CONFLICT ("id") DO UPDATE SET "maintenance" = EXCLUDED."maintenance", "updated_at" = EXCLUDED."updated_at", "updated_by" = EXCLUDED."updated_by";
-- SQLite
INSERT INTO "service_context" ("id", "maintenance", "updated_at", "updated_by") VALUES (1, ?, ?, ?) ON CONFLICT ("id") DO UPDATE SET "maintenance" = EXCLUDED."maintenance", "updated_at" = EXCLUDED."updated_at", "updated_by" = EXCLUDED."updated_by";
