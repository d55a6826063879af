"""The idempotency keys' adapter (adapters/db/idempotency.py) on both engines: a key commits or rolls
back with its unit of work, its answer comes back byte for byte, an expired key is free again, and
the purge goes in bounded batches."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.db import idempotency
from adapters.db.idempotency import PiccoloIdempotencyKeys, key_id, lock_number, purge_expired
from adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from domain.idempotency import KEPT_FOR, Answer, KeyInFlight, Recorded

CALLER = uuid.uuid4()
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ANSWER = Answer(201, {"Location": "/v1/posts/1", "ETag": '"1"'}, b'{"id":1}\x00\xff not even UTF-8')


async def take(engine, key: str, now: datetime = NOW, *, keep: Answer | None = ANSWER) -> Recorded | None:
    """Take ``key`` in a unit of work; keep ``keep`` and commit if it was taken (None: roll back)."""
    keys = PiccoloIdempotencyKeys(engine)
    async with PiccoloUnitOfWorkFactory(engine)() as uow:
        first = await keys.take(CALLER, key, b"fingerprint", now, now + KEPT_FOR)
        if first is None and keep is not None:
            await keys.keep(CALLER, key, keep)
            await uow.commit()
    return first


async def test_a_kept_answer_comes_back_byte_for_byte(engine):
    assert await take(engine, "k-1") is None

    assert await take(engine, "k-1") == Recorded(b"fingerprint", ANSWER)


async def test_a_key_rolled_back_with_its_unit_of_work_was_never_taken(engine):
    assert await take(engine, "k-1", keep=None) is None

    assert await take(engine, "k-1") is None, "free: nothing committed"


async def test_an_expired_key_is_free_again(engine):
    await take(engine, "k-1")

    assert await take(engine, "k-1", NOW + KEPT_FOR) is None
    assert await take(engine, "k-1", NOW + KEPT_FOR) == Recorded(b"fingerprint", ANSWER), "taken anew, for a day"


async def test_the_purge_deletes_expired_keys_only_in_bounded_batches(engine, monkeypatch: pytest.MonkeyPatch):
    for n in range(10):
        await take(engine, f"old-{n}")
    await take(engine, "fresh", NOW + timedelta(hours=12))
    monkeypatch.setattr(idempotency, "PURGE_BATCH", 3)
    monkeypatch.setattr(idempotency, "PURGE_MAX_BATCHES", 2)
    after = NOW + KEPT_FOR + timedelta(seconds=1)

    assert await purge_expired(engine, after) == 6, "two batches of three, then the round ends"
    assert await purge_expired(engine, after) == 4
    assert await purge_expired(engine, after) == 0
    assert await take(engine, "fresh", after) == Recorded(b"fingerprint", ANSWER), "a live key stays"


async def test_on_postgresql_a_held_key_is_in_flight_until_its_answer_is_committed(engine, db_url):
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite runs one write transaction at a time: nothing is ever in flight")
    await take(engine, "answered")
    async with engine.pool.acquire() as other, other.transaction():  # holds both keys' locks, as a request would
        for key in ("answered", "running"):
            await other.execute("SELECT pg_advisory_xact_lock($1)", lock_number(key_id(CALLER, key)))

        assert await take(engine, "answered") == Recorded(b"fingerprint", ANSWER), "another retry holds it: replay"
        with pytest.raises(KeyInFlight):
            await take(engine, "running")
