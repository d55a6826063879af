-- adapters/db/idempotency.py: every statement it can send. Rewritten by `uv run just sql-snapshot`.

-- TAKE
-- PostgreSQL
WITH lock AS (SELECT pg_try_advisory_xact_lock($1) AS held), taken AS (INSERT INTO "idempotency_key" ("id", "caller_id", "key", "request_hash", "status", "headers", "body", "created_at", "expires_at") SELECT $2::uuid, $3::uuid, $4::varchar, $5::bytea, 0, '', '', $6::timestamptz, $7::timestamptz FROM lock WHERE held ON CONFLICT ("id") DO UPDATE SET "request_hash" = EXCLUDED."request_hash", "status" = 0, "headers" = '', "body" = '', "created_at" = EXCLUDED."created_at", "expires_at" = EXCLUDED."expires_at" WHERE "idempotency_key"."expires_at" <= EXCLUDED."created_at" RETURNING "id") SELECT EXISTS (SELECT FROM taken);
-- SQLite
INSERT INTO "idempotency_key" ("id", "caller_id", "key", "request_hash", "status", "headers", "body", "created_at", "expires_at") VALUES (?, ?, ?, ?, 0, '', '', ?, ?) ON CONFLICT ("id") DO UPDATE SET "request_hash" = excluded."request_hash", "status" = 0, "headers" = '', "body" = '', "created_at" = excluded."created_at", "expires_at" = excluded."expires_at" WHERE "idempotency_key"."expires_at" <= excluded."created_at" RETURNING 1 AS taken;

-- FIRST
-- PostgreSQL
SELECT "request_hash", "status", "headers", "body" FROM "idempotency_key" WHERE "id" = $1 AND "expires_at" > $2;
-- SQLite
SELECT "request_hash", "status", "headers", "body" FROM "idempotency_key" WHERE "id" = ? AND "expires_at" > ?;

-- KEEP
-- PostgreSQL
UPDATE "idempotency_key" SET "status" = $2, "headers" = $3, "body" = $4 WHERE "id" = $1;
-- SQLite
UPDATE "idempotency_key" SET "status" = ?, "headers" = ?, "body" = ? WHERE "id" = ?;

-- PURGE
-- PostgreSQL
DELETE FROM "idempotency_key" WHERE "id" IN (SELECT "id" FROM "idempotency_key" WHERE "expires_at" < $1 ORDER BY "expires_at" LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING "id";
-- SQLite
DELETE FROM "idempotency_key" WHERE "id" IN (SELECT "id" FROM "idempotency_key" WHERE "expires_at" < ? ORDER BY "expires_at" LIMIT ?) RETURNING "id";
