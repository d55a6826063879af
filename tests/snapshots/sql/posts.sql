-- adapters/db/posts.py: every statement it can send. Rewritten by `uv run just sql-snapshot`.

-- GET
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version" FROM "post" WHERE "id" = $1;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version" FROM "post" WHERE "id" = ?;

-- GET_FOR_UPDATE
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version" FROM "post" WHERE "id" = $1 FOR UPDATE;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version" FROM "post" WHERE "id" = ?;

-- INSERT
-- PostgreSQL
INSERT INTO "post" ("id", "owner_id", "content", "created_at", "updated_at", "version") VALUES ($1, $2, $3, $4, $5, $6);
-- SQLite
INSERT INTO "post" ("id", "owner_id", "content", "created_at", "updated_at", "version") VALUES (?, ?, ?, ?, ?, ?);

-- UPDATE
-- PostgreSQL
UPDATE "post" SET "content" = $2, "updated_at" = $3, "version" = $4 WHERE "id" = $1 AND "version" = $5 RETURNING "id";
-- SQLite
UPDATE "post" SET "content" = ?, "updated_at" = ?, "version" = ? WHERE "id" = ? AND "version" = ? RETURNING "id";

-- DELETE
-- PostgreSQL
DELETE FROM "post" WHERE "id" = $1;
-- SQLite
DELETE FROM "post" WHERE "id" = ?;

-- LISTING page: no filter; created_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COALESCE(SUM(delta), 0)::bigint FROM row_count_delta WHERE relation = 'post') AS total FROM "post" ORDER BY "created_at" ASC, "id" ASC LIMIT $1 OFFSET $2;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post") AS total FROM "post" ORDER BY "created_at" ASC, "id" ASC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: no filter; created_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COALESCE(SUM(delta), 0)::bigint FROM row_count_delta WHERE relation = 'post') AS total FROM "post" WHERE ("created_at", "id") > ($1, $2) ORDER BY "created_at" ASC, "id" ASC LIMIT $3;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post") AS total FROM "post" WHERE ("created_at", "id") > (?, ?) ORDER BY "created_at" ASC, "id" ASC LIMIT ?;

-- LISTING page: no filter; created_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COALESCE(SUM(delta), 0)::bigint FROM row_count_delta WHERE relation = 'post') AS total FROM "post" ORDER BY "created_at" DESC, "id" DESC LIMIT $1 OFFSET $2;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post") AS total FROM "post" ORDER BY "created_at" DESC, "id" DESC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: no filter; created_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COALESCE(SUM(delta), 0)::bigint FROM row_count_delta WHERE relation = 'post') AS total FROM "post" WHERE ("created_at", "id") < ($1, $2) ORDER BY "created_at" DESC, "id" DESC LIMIT $3;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post") AS total FROM "post" WHERE ("created_at", "id") < (?, ?) ORDER BY "created_at" DESC, "id" DESC LIMIT ?;

-- LISTING page: no filter; updated_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COALESCE(SUM(delta), 0)::bigint FROM row_count_delta WHERE relation = 'post') AS total FROM "post" ORDER BY "updated_at" ASC, "id" ASC LIMIT $1 OFFSET $2;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post") AS total FROM "post" ORDER BY "updated_at" ASC, "id" ASC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: no filter; updated_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COALESCE(SUM(delta), 0)::bigint FROM row_count_delta WHERE relation = 'post') AS total FROM "post" WHERE ("updated_at", "id") > ($1, $2) ORDER BY "updated_at" ASC, "id" ASC LIMIT $3;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post") AS total FROM "post" WHERE ("updated_at", "id") > (?, ?) ORDER BY "updated_at" ASC, "id" ASC LIMIT ?;

-- LISTING page: no filter; updated_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COALESCE(SUM(delta), 0)::bigint FROM row_count_delta WHERE relation = 'post') AS total FROM "post" ORDER BY "updated_at" DESC, "id" DESC LIMIT $1 OFFSET $2;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post") AS total FROM "post" ORDER BY "updated_at" DESC, "id" DESC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: no filter; updated_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COALESCE(SUM(delta), 0)::bigint FROM row_count_delta WHERE relation = 'post') AS total FROM "post" WHERE ("updated_at", "id") < ($1, $2) ORDER BY "updated_at" DESC, "id" DESC LIMIT $3;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post") AS total FROM "post" WHERE ("updated_at", "id") < (?, ?) ORDER BY "updated_at" DESC, "id" DESC LIMIT ?;

-- LISTING count: no filter
-- PostgreSQL
SELECT (SELECT COALESCE(SUM(delta), 0)::bigint FROM row_count_delta WHERE relation = 'post');
-- SQLite
SELECT (SELECT COUNT(*) FROM "post");

-- LISTING page: owner_id; created_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1) AS total FROM "post" WHERE "owner_id" = $1 ORDER BY "created_at" ASC, "id" ASC LIMIT $2 OFFSET $3;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ?) AS total FROM "post" WHERE "owner_id" = ? ORDER BY "created_at" ASC, "id" ASC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: owner_id; created_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1) AS total FROM "post" WHERE "owner_id" = $1 AND ("created_at", "id") > ($2, $3) ORDER BY "created_at" ASC, "id" ASC LIMIT $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ?) AS total FROM "post" WHERE "owner_id" = ? AND ("created_at", "id") > (?, ?) ORDER BY "created_at" ASC, "id" ASC LIMIT ?;

-- LISTING page: owner_id; created_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1) AS total FROM "post" WHERE "owner_id" = $1 ORDER BY "created_at" DESC, "id" DESC LIMIT $2 OFFSET $3;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ?) AS total FROM "post" WHERE "owner_id" = ? ORDER BY "created_at" DESC, "id" DESC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: owner_id; created_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1) AS total FROM "post" WHERE "owner_id" = $1 AND ("created_at", "id") < ($2, $3) ORDER BY "created_at" DESC, "id" DESC LIMIT $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ?) AS total FROM "post" WHERE "owner_id" = ? AND ("created_at", "id") < (?, ?) ORDER BY "created_at" DESC, "id" DESC LIMIT ?;

-- LISTING page: owner_id; updated_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1) AS total FROM "post" WHERE "owner_id" = $1 ORDER BY "updated_at" ASC, "id" ASC LIMIT $2 OFFSET $3;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ?) AS total FROM "post" WHERE "owner_id" = ? ORDER BY "updated_at" ASC, "id" ASC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: owner_id; updated_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1) AS total FROM "post" WHERE "owner_id" = $1 AND ("updated_at", "id") > ($2, $3) ORDER BY "updated_at" ASC, "id" ASC LIMIT $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ?) AS total FROM "post" WHERE "owner_id" = ? AND ("updated_at", "id") > (?, ?) ORDER BY "updated_at" ASC, "id" ASC LIMIT ?;

-- LISTING page: owner_id; updated_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1) AS total FROM "post" WHERE "owner_id" = $1 ORDER BY "updated_at" DESC, "id" DESC LIMIT $2 OFFSET $3;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ?) AS total FROM "post" WHERE "owner_id" = ? ORDER BY "updated_at" DESC, "id" DESC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: owner_id; updated_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1) AS total FROM "post" WHERE "owner_id" = $1 AND ("updated_at", "id") < ($2, $3) ORDER BY "updated_at" DESC, "id" DESC LIMIT $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ?) AS total FROM "post" WHERE "owner_id" = ? AND ("updated_at", "id") < (?, ?) ORDER BY "updated_at" DESC, "id" DESC LIMIT ?;

-- LISTING count: owner_id
-- PostgreSQL
SELECT (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1);
-- SQLite
SELECT (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ?);

-- LISTING page: from_date; created_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1) AS total FROM "post" WHERE "created_at" >= $1 ORDER BY "created_at" ASC, "id" ASC LIMIT $2 OFFSET $3;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ?) AS total FROM "post" WHERE "created_at" >= ? ORDER BY "created_at" ASC, "id" ASC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: from_date; created_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1) AS total FROM "post" WHERE "created_at" >= $1 AND ("created_at", "id") > ($2, $3) ORDER BY "created_at" ASC, "id" ASC LIMIT $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ?) AS total FROM "post" WHERE "created_at" >= ? AND ("created_at", "id") > (?, ?) ORDER BY "created_at" ASC, "id" ASC LIMIT ?;

-- LISTING page: from_date; created_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1) AS total FROM "post" WHERE "created_at" >= $1 ORDER BY "created_at" DESC, "id" DESC LIMIT $2 OFFSET $3;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ?) AS total FROM "post" WHERE "created_at" >= ? ORDER BY "created_at" DESC, "id" DESC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: from_date; created_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1) AS total FROM "post" WHERE "created_at" >= $1 AND ("created_at", "id") < ($2, $3) ORDER BY "created_at" DESC, "id" DESC LIMIT $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ?) AS total FROM "post" WHERE "created_at" >= ? AND ("created_at", "id") < (?, ?) ORDER BY "created_at" DESC, "id" DESC LIMIT ?;

-- LISTING page: from_date; updated_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1) AS total FROM "post" WHERE "created_at" >= $1 ORDER BY "updated_at" ASC, "id" ASC LIMIT $2 OFFSET $3;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ?) AS total FROM "post" WHERE "created_at" >= ? ORDER BY "updated_at" ASC, "id" ASC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: from_date; updated_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1) AS total FROM "post" WHERE "created_at" >= $1 AND ("updated_at", "id") > ($2, $3) ORDER BY "updated_at" ASC, "id" ASC LIMIT $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ?) AS total FROM "post" WHERE "created_at" >= ? AND ("updated_at", "id") > (?, ?) ORDER BY "updated_at" ASC, "id" ASC LIMIT ?;

-- LISTING page: from_date; updated_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1) AS total FROM "post" WHERE "created_at" >= $1 ORDER BY "updated_at" DESC, "id" DESC LIMIT $2 OFFSET $3;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ?) AS total FROM "post" WHERE "created_at" >= ? ORDER BY "updated_at" DESC, "id" DESC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: from_date; updated_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1) AS total FROM "post" WHERE "created_at" >= $1 AND ("updated_at", "id") < ($2, $3) ORDER BY "updated_at" DESC, "id" DESC LIMIT $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ?) AS total FROM "post" WHERE "created_at" >= ? AND ("updated_at", "id") < (?, ?) ORDER BY "updated_at" DESC, "id" DESC LIMIT ?;

-- LISTING count: from_date
-- PostgreSQL
SELECT (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1);
-- SQLite
SELECT (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ?);

-- LISTING page: to_date; created_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" <= $1) AS total FROM "post" WHERE "created_at" <= $1 ORDER BY "created_at" ASC, "id" ASC LIMIT $2 OFFSET $3;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" <= ?) AS total FROM "post" WHERE "created_at" <= ? ORDER BY "created_at" ASC, "id" ASC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: to_date; created_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" <= $1) AS total FROM "post" WHERE "created_at" <= $1 AND ("created_at", "id") > ($2, $3) ORDER BY "created_at" ASC, "id" ASC LIMIT $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" <= ?) AS total FROM "post" WHERE "created_at" <= ? AND ("created_at", "id") > (?, ?) ORDER BY "created_at" ASC, "id" ASC LIMIT ?;

-- LISTING page: to_date; created_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" <= $1) AS total FROM "post" WHERE "created_at" <= $1 ORDER BY "created_at" DESC, "id" DESC LIMIT $2 OFFSET $3;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" <= ?) AS total FROM "post" WHERE "created_at" <= ? ORDER BY "created_at" DESC, "id" DESC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: to_date; created_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" <= $1) AS total FROM "post" WHERE "created_at" <= $1 AND ("created_at", "id") < ($2, $3) ORDER BY "created_at" DESC, "id" DESC LIMIT $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" <= ?) AS total FROM "post" WHERE "created_at" <= ? AND ("created_at", "id") < (?, ?) ORDER BY "created_at" DESC, "id" DESC LIMIT ?;

-- LISTING page: to_date; updated_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" <= $1) AS total FROM "post" WHERE "created_at" <= $1 ORDER BY "updated_at" ASC, "id" ASC LIMIT $2 OFFSET $3;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" <= ?) AS total FROM "post" WHERE "created_at" <= ? ORDER BY "updated_at" ASC, "id" ASC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: to_date; updated_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" <= $1) AS total FROM "post" WHERE "created_at" <= $1 AND ("updated_at", "id") > ($2, $3) ORDER BY "updated_at" ASC, "id" ASC LIMIT $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" <= ?) AS total FROM "post" WHERE "created_at" <= ? AND ("updated_at", "id") > (?, ?) ORDER BY "updated_at" ASC, "id" ASC LIMIT ?;

-- LISTING page: to_date; updated_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" <= $1) AS total FROM "post" WHERE "created_at" <= $1 ORDER BY "updated_at" DESC, "id" DESC LIMIT $2 OFFSET $3;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" <= ?) AS total FROM "post" WHERE "created_at" <= ? ORDER BY "updated_at" DESC, "id" DESC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: to_date; updated_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" <= $1) AS total FROM "post" WHERE "created_at" <= $1 AND ("updated_at", "id") < ($2, $3) ORDER BY "updated_at" DESC, "id" DESC LIMIT $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" <= ?) AS total FROM "post" WHERE "created_at" <= ? AND ("updated_at", "id") < (?, ?) ORDER BY "updated_at" DESC, "id" DESC LIMIT ?;

-- LISTING count: to_date
-- PostgreSQL
SELECT (SELECT COUNT(*) FROM "post" WHERE "created_at" <= $1);
-- SQLite
SELECT (SELECT COUNT(*) FROM "post" WHERE "created_at" <= ?);

-- LISTING page: owner_id, from_date; created_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 ORDER BY "created_at" ASC, "id" ASC LIMIT $3 OFFSET $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? ORDER BY "created_at" ASC, "id" ASC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: owner_id, from_date; created_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND ("created_at", "id") > ($3, $4) ORDER BY "created_at" ASC, "id" ASC LIMIT $5;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND ("created_at", "id") > (?, ?) ORDER BY "created_at" ASC, "id" ASC LIMIT ?;

-- LISTING page: owner_id, from_date; created_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 ORDER BY "created_at" DESC, "id" DESC LIMIT $3 OFFSET $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? ORDER BY "created_at" DESC, "id" DESC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: owner_id, from_date; created_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND ("created_at", "id") < ($3, $4) ORDER BY "created_at" DESC, "id" DESC LIMIT $5;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND ("created_at", "id") < (?, ?) ORDER BY "created_at" DESC, "id" DESC LIMIT ?;

-- LISTING page: owner_id, from_date; updated_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 ORDER BY "updated_at" ASC, "id" ASC LIMIT $3 OFFSET $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? ORDER BY "updated_at" ASC, "id" ASC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: owner_id, from_date; updated_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND ("updated_at", "id") > ($3, $4) ORDER BY "updated_at" ASC, "id" ASC LIMIT $5;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND ("updated_at", "id") > (?, ?) ORDER BY "updated_at" ASC, "id" ASC LIMIT ?;

-- LISTING page: owner_id, from_date; updated_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 ORDER BY "updated_at" DESC, "id" DESC LIMIT $3 OFFSET $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? ORDER BY "updated_at" DESC, "id" DESC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: owner_id, from_date; updated_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND ("updated_at", "id") < ($3, $4) ORDER BY "updated_at" DESC, "id" DESC LIMIT $5;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND ("updated_at", "id") < (?, ?) ORDER BY "updated_at" DESC, "id" DESC LIMIT ?;

-- LISTING count: owner_id, from_date
-- PostgreSQL
SELECT (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2);
-- SQLite
SELECT (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ?);

-- LISTING page: owner_id, to_date; created_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2 ORDER BY "created_at" ASC, "id" ASC LIMIT $3 OFFSET $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" <= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" <= ? ORDER BY "created_at" ASC, "id" ASC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: owner_id, to_date; created_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2 AND ("created_at", "id") > ($3, $4) ORDER BY "created_at" ASC, "id" ASC LIMIT $5;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" <= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" <= ? AND ("created_at", "id") > (?, ?) ORDER BY "created_at" ASC, "id" ASC LIMIT ?;

-- LISTING page: owner_id, to_date; created_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2 ORDER BY "created_at" DESC, "id" DESC LIMIT $3 OFFSET $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" <= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" <= ? ORDER BY "created_at" DESC, "id" DESC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: owner_id, to_date; created_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2 AND ("created_at", "id") < ($3, $4) ORDER BY "created_at" DESC, "id" DESC LIMIT $5;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" <= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" <= ? AND ("created_at", "id") < (?, ?) ORDER BY "created_at" DESC, "id" DESC LIMIT ?;

-- LISTING page: owner_id, to_date; updated_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2 ORDER BY "updated_at" ASC, "id" ASC LIMIT $3 OFFSET $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" <= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" <= ? ORDER BY "updated_at" ASC, "id" ASC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: owner_id, to_date; updated_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2 AND ("updated_at", "id") > ($3, $4) ORDER BY "updated_at" ASC, "id" ASC LIMIT $5;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" <= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" <= ? AND ("updated_at", "id") > (?, ?) ORDER BY "updated_at" ASC, "id" ASC LIMIT ?;

-- LISTING page: owner_id, to_date; updated_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2 ORDER BY "updated_at" DESC, "id" DESC LIMIT $3 OFFSET $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" <= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" <= ? ORDER BY "updated_at" DESC, "id" DESC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: owner_id, to_date; updated_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2 AND ("updated_at", "id") < ($3, $4) ORDER BY "updated_at" DESC, "id" DESC LIMIT $5;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" <= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" <= ? AND ("updated_at", "id") < (?, ?) ORDER BY "updated_at" DESC, "id" DESC LIMIT ?;

-- LISTING count: owner_id, to_date
-- PostgreSQL
SELECT (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" <= $2);
-- SQLite
SELECT (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" <= ?);

-- LISTING page: from_date, to_date; created_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2) AS total FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2 ORDER BY "created_at" ASC, "id" ASC LIMIT $3 OFFSET $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ? AND "created_at" <= ?) AS total FROM "post" WHERE "created_at" >= ? AND "created_at" <= ? ORDER BY "created_at" ASC, "id" ASC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: from_date, to_date; created_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2) AS total FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2 AND ("created_at", "id") > ($3, $4) ORDER BY "created_at" ASC, "id" ASC LIMIT $5;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ? AND "created_at" <= ?) AS total FROM "post" WHERE "created_at" >= ? AND "created_at" <= ? AND ("created_at", "id") > (?, ?) ORDER BY "created_at" ASC, "id" ASC LIMIT ?;

-- LISTING page: from_date, to_date; created_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2) AS total FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2 ORDER BY "created_at" DESC, "id" DESC LIMIT $3 OFFSET $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ? AND "created_at" <= ?) AS total FROM "post" WHERE "created_at" >= ? AND "created_at" <= ? ORDER BY "created_at" DESC, "id" DESC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: from_date, to_date; created_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2) AS total FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2 AND ("created_at", "id") < ($3, $4) ORDER BY "created_at" DESC, "id" DESC LIMIT $5;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ? AND "created_at" <= ?) AS total FROM "post" WHERE "created_at" >= ? AND "created_at" <= ? AND ("created_at", "id") < (?, ?) ORDER BY "created_at" DESC, "id" DESC LIMIT ?;

-- LISTING page: from_date, to_date; updated_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2) AS total FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2 ORDER BY "updated_at" ASC, "id" ASC LIMIT $3 OFFSET $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ? AND "created_at" <= ?) AS total FROM "post" WHERE "created_at" >= ? AND "created_at" <= ? ORDER BY "updated_at" ASC, "id" ASC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: from_date, to_date; updated_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2) AS total FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2 AND ("updated_at", "id") > ($3, $4) ORDER BY "updated_at" ASC, "id" ASC LIMIT $5;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ? AND "created_at" <= ?) AS total FROM "post" WHERE "created_at" >= ? AND "created_at" <= ? AND ("updated_at", "id") > (?, ?) ORDER BY "updated_at" ASC, "id" ASC LIMIT ?;

-- LISTING page: from_date, to_date; updated_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2) AS total FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2 ORDER BY "updated_at" DESC, "id" DESC LIMIT $3 OFFSET $4;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ? AND "created_at" <= ?) AS total FROM "post" WHERE "created_at" >= ? AND "created_at" <= ? ORDER BY "updated_at" DESC, "id" DESC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: from_date, to_date; updated_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2) AS total FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2 AND ("updated_at", "id") < ($3, $4) ORDER BY "updated_at" DESC, "id" DESC LIMIT $5;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ? AND "created_at" <= ?) AS total FROM "post" WHERE "created_at" >= ? AND "created_at" <= ? AND ("updated_at", "id") < (?, ?) ORDER BY "updated_at" DESC, "id" DESC LIMIT ?;

-- LISTING count: from_date, to_date
-- PostgreSQL
SELECT (SELECT COUNT(*) FROM "post" WHERE "created_at" >= $1 AND "created_at" <= $2);
-- SQLite
SELECT (SELECT COUNT(*) FROM "post" WHERE "created_at" >= ? AND "created_at" <= ?);

-- LISTING page: owner_id, from_date, to_date; created_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3 ORDER BY "created_at" ASC, "id" ASC LIMIT $4 OFFSET $5;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ? ORDER BY "created_at" ASC, "id" ASC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: owner_id, from_date, to_date; created_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3 AND ("created_at", "id") > ($4, $5) ORDER BY "created_at" ASC, "id" ASC LIMIT $6;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ? AND ("created_at", "id") > (?, ?) ORDER BY "created_at" ASC, "id" ASC LIMIT ?;

-- LISTING page: owner_id, from_date, to_date; created_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3 ORDER BY "created_at" DESC, "id" DESC LIMIT $4 OFFSET $5;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ? ORDER BY "created_at" DESC, "id" DESC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: owner_id, from_date, to_date; created_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3 AND ("created_at", "id") < ($4, $5) ORDER BY "created_at" DESC, "id" DESC LIMIT $6;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ? AND ("created_at", "id") < (?, ?) ORDER BY "created_at" DESC, "id" DESC LIMIT ?;

-- LISTING page: owner_id, from_date, to_date; updated_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3 ORDER BY "updated_at" ASC, "id" ASC LIMIT $4 OFFSET $5;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ? ORDER BY "updated_at" ASC, "id" ASC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: owner_id, from_date, to_date; updated_at asc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3 AND ("updated_at", "id") > ($4, $5) ORDER BY "updated_at" ASC, "id" ASC LIMIT $6;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ? AND ("updated_at", "id") > (?, ?) ORDER BY "updated_at" ASC, "id" ASC LIMIT ?;

-- LISTING page: owner_id, from_date, to_date; updated_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3 ORDER BY "updated_at" DESC, "id" DESC LIMIT $4 OFFSET $5;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ? ORDER BY "updated_at" DESC, "id" DESC LIMIT ? OFFSET ?;

-- LISTING page after a cursor: owner_id, from_date, to_date; updated_at desc
-- PostgreSQL
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3) AS total FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3 AND ("updated_at", "id") < ($4, $5) ORDER BY "updated_at" DESC, "id" DESC LIMIT $6;
-- SQLite
SELECT "id", "owner_id", "content", "created_at", "updated_at", "version", (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ?) AS total FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ? AND ("updated_at", "id") < (?, ?) ORDER BY "updated_at" DESC, "id" DESC LIMIT ?;

-- LISTING count: owner_id, from_date, to_date
-- PostgreSQL
SELECT (SELECT COUNT(*) FROM "post" WHERE "owner_id" = $1 AND "created_at" >= $2 AND "created_at" <= $3);
-- SQLite
SELECT (SELECT COUNT(*) FROM "post" WHERE "owner_id" = ? AND "created_at" >= ? AND "created_at" <= ?);
