"""Idempotency keys in the database: the table, the statements of the ``IdempotencyKeys`` port, and the
purge of expired keys.

One row per caller and key. Its id is ``uuid5(caller_id, key)``, so the primary key is the unique
index the rule needs, in one column as Piccolo wants it; ``caller_id`` and ``key`` are kept beside it
for whoever reads the table. A create takes its key first thing in its unit of work (``TAKE``) and
records its answer last (``KEEP``), so the row commits with the post or comment it answers, or not
at all: no committed row is ever half-written, and none is ever "in flight".

In flight is a lock instead. On PostgreSQL ``TAKE`` tries a transaction-level advisory lock on the
key (``pg_try_advisory_xact_lock``, never waiting); taken, nobody else can be inserting the key, and
``INSERT ... ON CONFLICT`` either inserts it or meets the committed row of an earlier request. Not
taken, or not inserted, ``FIRST`` reads the committed answer, in a statement of its own so that it
sees a commit that happened while ``TAKE`` ran: found, it is replayed (whoever holds the lock, maybe
another retry replaying it too); not found, the request that holds the key is still running (409). On SQLite
transactions are IMMEDIATE, one writer at a time: a retry waits for the first to commit, then
replays it, and there is never anything in flight.

A key past ``expires_at`` is free again: ``TAKE`` writes over it. ``purge_expired`` deletes such
rows in bounded batches, off the request path (app/lifecycle.py runs ``purge_forever``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime

import msgspec
from piccolo.columns import UUID, Bytea, Integer, Text, Timestamptz, Varchar
from piccolo.engine.base import Engine
from piccolo.table import Table

from adapters.db.sql import Statement, fetch
from domain.idempotency import Answer, KeyInFlight, Recorded
from domain.ports import Clock

log = logging.getLogger(__name__)

PURGE_EVERY_SECONDS = 60.0
PURGE_BATCH = 1000  # rows per DELETE: a short statement, whatever the backlog
PURGE_MAX_BATCHES = 100  # per round; the next round goes on


class IdempotencyKeyTable(Table, tablename="idempotency_key"):
    id = UUID(primary_key=True)  # uuid5(caller_id, key): see key_id
    caller_id = UUID()
    key = Varchar(length=255)
    request_hash = Bytea()  # the fingerprint of the request that took the key
    status = Integer()
    headers = Text()  # a JSON object: the answer's headers
    body = Bytea()
    created_at = Timestamptz()
    expires_at = Timestamptz(index=True)  # the purge's index


# $1 the advisory lock's number, $2 the row id. One row back on PostgreSQL: whether the key was taken.
TAKE = Statement(
    "WITH lock AS (SELECT pg_try_advisory_xact_lock($1) AS held), "
    "taken AS ("
    'INSERT INTO "idempotency_key" ("id", "caller_id", "key", "request_hash", "status", "headers", "body", '
    '"created_at", "expires_at") '
    "SELECT $2::uuid, $3::uuid, $4::varchar, $5::bytea, 0, '', '', $6::timestamptz, $7::timestamptz FROM lock WHERE held "
    'ON CONFLICT ("id") DO UPDATE SET "request_hash" = EXCLUDED."request_hash", "status" = 0, "headers" = \'\', '
    '"body" = \'\', "created_at" = EXCLUDED."created_at", "expires_at" = EXCLUDED."expires_at" '
    'WHERE "idempotency_key"."expires_at" <= EXCLUDED."created_at" '
    'RETURNING "id") '
    "SELECT EXISTS (SELECT FROM taken)",
    # One writer at a time: nothing to lock. A row back when the key is taken, none when it is not.
    sqlite='INSERT INTO "idempotency_key" ("id", "caller_id", "key", "request_hash", "status", "headers", "body", '
    "\"created_at\", \"expires_at\") VALUES ($2, $3, $4, $5, 0, '', '', $6, $7) "
    'ON CONFLICT ("id") DO UPDATE SET "request_hash" = excluded."request_hash", "status" = 0, "headers" = \'\', '
    '"body" = \'\', "created_at" = excluded."created_at", "expires_at" = excluded."expires_at" '
    'WHERE "idempotency_key"."expires_at" <= excluded."created_at" '
    "RETURNING 1 AS taken",
)
FIRST = Statement(
    'SELECT "request_hash", "status", "headers", "body" FROM "idempotency_key" WHERE "id" = $1 AND "expires_at" > $2'
)
KEEP = Statement('UPDATE "idempotency_key" SET "status" = $2, "headers" = $3, "body" = $4 WHERE "id" = $1')
# A bounded batch, oldest first, through the index on expires_at; on PostgreSQL rows another purge
# (another worker) or a TAKE writing over an expired key holds are skipped, not waited for.
PURGE = Statement(
    'DELETE FROM "idempotency_key" WHERE "id" IN (SELECT "id" FROM "idempotency_key" WHERE "expires_at" < $1 '
    'ORDER BY "expires_at" LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING "id"',
    sqlite='DELETE FROM "idempotency_key" WHERE "id" IN (SELECT "id" FROM "idempotency_key" WHERE "expires_at" < $1 '
    'ORDER BY "expires_at" LIMIT $2) RETURNING "id"',
)

_headers = msgspec.json.Encoder()
_read_headers = msgspec.json.Decoder(dict[str, str])


def key_id(caller_id: uuid.UUID, key: str) -> uuid.UUID:
    """The row of a caller's key: one column for the primary key, the same on every engine."""
    return uuid.uuid5(caller_id, key)


def lock_number(row_id: uuid.UUID) -> int:
    """The advisory lock of a key: 64 bits of its id (a clash costs a spurious 409, once in 2**64)."""
    return int.from_bytes(row_id.bytes[:8], "big", signed=True)


class PiccoloIdempotencyKeys:
    """The ``IdempotencyKeys`` port: both calls join the unit of work open in the caller's task."""

    def __init__(self, engine: Engine) -> None:  # type: ignore[type-arg]
        self._engine = engine

    async def take(
        self, caller_id: uuid.UUID, key: str, fingerprint: bytes, now: datetime, expires_at: datetime
    ) -> Recorded | None:
        row_id = key_id(caller_id, key)
        rows = await fetch(
            self._engine, TAKE, lock_number(row_id), row_id, caller_id, key, fingerprint, now, expires_at
        )
        if rows and rows[0][0]:
            return None  # taken
        # Not taken: a committed answer (the lock may be held by another retry replaying it), or none
        # yet because the request that holds the key is still running.
        found = await fetch(self._engine, FIRST, row_id, now)
        if found:
            request_hash, status, headers, body = found[0]
            return Recorded(bytes(request_hash), Answer(status, _read_headers.decode(headers), bytes(body)))
        raise KeyInFlight(f"a request with Idempotency-Key {key!r} is still running; retry once it has finished")

    async def keep(self, caller_id: uuid.UUID, key: str, answer: Answer) -> None:
        await fetch(
            self._engine,
            KEEP,
            key_id(caller_id, key),
            answer.status,
            _headers.encode(answer.headers).decode(),
            answer.body,
        )


async def purge_expired(engine: Engine, now: datetime) -> int:  # type: ignore[type-arg]
    """Delete the keys that expired before ``now``, a bounded batch per statement, at most
    ``PURGE_MAX_BATCHES`` of them; returns how many went."""
    purged = 0
    for _ in range(PURGE_MAX_BATCHES):
        batch = len(await fetch(engine, PURGE, now, PURGE_BATCH))
        purged += batch
        if batch < PURGE_BATCH:
            break
    return purged


async def purge_forever(engine: Engine, clock: Clock, every: float = PURGE_EVERY_SECONDS) -> None:  # type: ignore[type-arg]
    """Purge expired keys every ``every`` seconds, for as long as the app runs (app/lifecycle.py)."""
    while True:
        await asyncio.sleep(every)
        try:
            if purged := await purge_expired(engine, clock.now()):
                log.info("purged %d expired idempotency keys", purged)
        except Exception as exc:  # the database is away: the keys wait for the next round
            log.debug("idempotency key purge failed: %s", exc)
