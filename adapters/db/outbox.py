"""The transactional outbox in the database: recording changes inside a unit of work, and the
relay's side of it (claiming due rows, marking them delivered or failed, the backlog, the purge).

Claims are short transactions of their own; delivering happens between them, never inside one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from piccolo.columns import BigSerial, Integer, Text, Timestamptz, Varchar
from piccolo.columns.combination import WhereRaw
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

from adapters.db.pool import BoundedPool, transaction
from domain.ports import Clock, RelationChange


class OutboxTable(Table, tablename="relation_outbox"):
    """Relationship changes waiting for the relay (transactional outbox): written in the same
    transaction as the row they describe, delivered to OpenFGA afterwards, in ``id`` order per object.

    A row is pending while ``delivered_at`` is null. ``claimed_by`` names the relay that holds it
    until ``next_attempt_at`` (a lease); a failed attempt clears the claim and pushes
    ``next_attempt_at`` out (backoff). The object column is called ``object`` as in OpenFGA."""

    id = BigSerial(primary_key=True)
    op = Varchar(length=6)  # "write" | "delete"
    subject = Varchar(length=512)  # OpenFGA's "user", e.g. user:<uuid> ("user" is reserved in SQL)
    relation = Varchar(length=50)
    object = Varchar(length=256)
    created_at = Timestamptz()
    next_attempt_at = Timestamptz()
    attempts = Integer(default=0)
    claimed_by = Varchar(length=64, null=True, default=None)
    last_error = Text(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)


t = OutboxTable

# Per-object order: a row is due only once every earlier row for the same object is delivered.
# Rows another relay has claimed are still pending, so they hold back their successors too.
_FIRST_PENDING_OF_ITS_OBJECT = WhereRaw(
    "NOT EXISTS (SELECT 1 FROM relation_outbox AS earlier WHERE earlier.object = relation_outbox.object"
    " AND earlier.delivered_at IS NULL AND earlier.id < relation_outbox.id)"
)
_ERROR_TEXT_LIMIT = 1000

# What the backfill queues, per name: the table, and each row's tuple (subject, relation, object) as
# SQL expressions, with a condition. Fixed text (no input): the tuples the use cases record, for the
# rows that exist (domain/ports.py: RelationChange).
_BACKFILL: dict[str, tuple[str, str, str, str, str]] = {
    # region: blog
    "post": ("post", "'user:' || CAST(owner_id AS TEXT)", "owner", "'post:' || CAST(id AS TEXT)", "TRUE"),
    "comment": ("comment", "'user:' || CAST(owner_id AS TEXT)", "owner", "'comment:' || CAST(id AS TEXT)", "TRUE"),
    "comment_post": ("comment", "'post:' || CAST(post_id AS TEXT)", "post", "'comment:' || CAST(id AS TEXT)", "TRUE"),
    "post_editor": (
        "post_editor",
        "'user:' || CAST(user_id AS TEXT)",
        "editor",
        "'post:' || CAST(post_id AS TEXT)",
        "TRUE",
    ),
    "post_editor_group": (
        "post_editor_group",
        "'group:' || CAST(group_id AS TEXT) || '#member'",
        "editor",
        "'post:' || CAST(post_id AS TEXT)",
        "TRUE",
    ),
    "group_membership": (
        "group_membership",
        "'user:' || CAST(user_id AS TEXT)",
        "member",
        "'group:' || CAST(group_id AS TEXT)",
        "active",
    ),
    # endregion
    # `just new-resource` adds a new resource's owners above this line.
}
_BACKFILL_STATEMENTS = {
    name: (
        f'SELECT COUNT(*) AS n FROM "{table}" WHERE {where}',  # noqa: S608
        "INSERT INTO relation_outbox (op, subject, relation, object, created_at, next_attempt_at, attempts) "  # noqa: S608
        f"SELECT 'write', {subject}, '{relation}', {object_}, {{}}, {{}}, 0 FROM \"{table}\" WHERE {where}",
    )
    for name, (table, subject, relation, object_, where) in _BACKFILL.items()
}


class OutboxEntry(msgspec.Struct, frozen=True):
    id: int
    change: RelationChange
    attempts: int


class Backlog(msgspec.Struct, frozen=True):
    pending: int
    oldest_created_at: datetime | None


class PiccoloOutbox:
    """The ``Outbox`` port: rows inserted in the caller's transaction (Piccolo's ContextVar)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def record(self, changes: Sequence[RelationChange]) -> None:
        if not changes:
            return
        now = self._clock.now()
        await t.insert(
            *(
                t(op=c.op, subject=c.user, relation=c.relation, object=c.object, created_at=now, next_attempt_at=now)
                for c in changes
            )
        )


class OutboxStore:
    """What the relay does to the outbox table. Every method is one short transaction."""

    def __init__(self, engine: Engine) -> None:  # type: ignore[type-arg]
        self._engine = engine
        self._skip_locked = isinstance(engine, PostgresEngine)

    def _transaction(self, *, bounded: bool = True) -> Any:
        if isinstance(self._engine, SQLiteEngine):
            # Writers queue on SQLite's one lock instead of failing half-way with "database is locked".
            return self._engine.transaction(transaction_type=TransactionType.immediate)
        if bounded and isinstance(self._engine, PostgresEngine) and isinstance(self._engine.pool, BoundedPool):
            return transaction(self._engine, self._engine.pool)  # within DB_REQUEST_TIMEOUT_MS
        return self._engine.transaction()

    async def claim(self, relay: str, now: datetime, limit: int, lease_until: datetime) -> list[OutboxEntry]:
        """Take up to ``limit`` due rows, oldest first, at most one per object, for ``relay`` until
        ``lease_until``. On PostgreSQL rows that another relay is claiming are skipped, not waited for
        (FOR UPDATE SKIP LOCKED); SQLite has a single writer anyway."""
        query = (
            t.select(t.id, t.op, t.subject, t.relation, t.object, t.attempts)
            .where(t.delivered_at.is_null(), t.next_attempt_at <= now, _FIRST_PENDING_OF_ITS_OBJECT)
            .order_by(t.id)
            .limit(limit)
        )
        if self._skip_locked:
            query = query.lock_rows("UPDATE", skip_locked=True)
        async with self._transaction():
            rows = await query
            if not rows:
                return []
            await t.update({t.claimed_by: relay, t.next_attempt_at: lease_until}).where(
                t.id.is_in([row["id"] for row in rows])
            )
        return [
            OutboxEntry(
                id=row["id"],
                change=RelationChange(
                    op=row["op"], user=row["subject"], relation=row["relation"], object=row["object"]
                ),
                attempts=row["attempts"],
            )
            for row in rows
        ]

    async def mark_delivered(self, ids: Sequence[int], now: datetime) -> None:
        if ids:
            await t.update({t.delivered_at: now, t.claimed_by: None}).where(t.id.is_in(list(ids)))

    async def mark_failed(self, relay: str, failures: Sequence[tuple[int, datetime, str]]) -> None:
        """Release the claims with their next attempt time; only rows ``relay`` still holds."""
        if not failures:
            return
        async with self._transaction():
            for row_id, next_attempt_at, error in failures:
                await t.update(
                    {
                        t.claimed_by: None,
                        t.next_attempt_at: next_attempt_at,
                        t.attempts: t.attempts + 1,
                        t.last_error: error[:_ERROR_TEXT_LIMIT],
                    }
                ).where((t.id == row_id) & (t.claimed_by == relay) & t.delivered_at.is_null())

    async def make_due(self, now: datetime) -> int:
        """End the backoff of every pending row that no relay holds; returns how many."""
        changed = (
            await t.update({t.next_attempt_at: now})
            .where(t.delivered_at.is_null(), t.claimed_by.is_null(), t.next_attempt_at > now)
            .returning(t.id)
        )
        return len(changed)

    async def backlog(self) -> Backlog:
        pending = await t.count().where(t.delivered_at.is_null())
        oldest = None
        if pending:
            row = await t.select(t.created_at).where(t.delivered_at.is_null()).order_by(t.id).first()
            oldest = row["created_at"] if row else None
        return Backlog(pending=pending, oldest_created_at=oldest)

    async def enqueue_owners(self, now: datetime) -> dict[str, int]:
        """Queue every tuple the rows stand for: the owner of every post, comment and generated
        resource, each comment's post, each share (with a user or a group) and each active group
        membership, e.g. when OpenFGA is turned on for a database that has content already; returns
        how many per kind. Delivering a tuple OpenFGA already holds counts as delivered, so running
        this twice is harmless. On PostgreSQL writers to those tables wait for it (a SHARE lock): a
        row deleted meanwhile would otherwise have its queued delete overtaken by the write queued here."""
        counts: dict[str, int] = {}
        if not _BACKFILL:  # a service with no resource yet (made without the example domain)
            return counts
        # No deadline here: on a large database this one may take minutes.
        async with self._transaction(bounded=False):
            if isinstance(self._engine, PostgresEngine):
                tables = ", ".join(sorted({f'"{table}"' for table, *_ in _BACKFILL.values()}))
                await self._engine.run_ddl(f"LOCK TABLE {tables} IN SHARE MODE")
            for kind, (count, enqueue) in _BACKFILL_STATEMENTS.items():
                counts[kind] = (await self._engine.run_querystring(QueryString(count)))[0]["n"]
                await self._engine.run_querystring(QueryString(enqueue, now, now))
        return counts

    async def purge(self, delivered_before: datetime) -> None:
        await t.delete().where(t.delivered_at < delivered_before)
