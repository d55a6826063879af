"""The transactional outbox and its relay: real database (SQLite and PostgreSQL), real openfga-sdk,
the stand-in OpenFGA server. Time is a clock the test moves, so backoff needs no sleeping."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from piccolo.engine.base import Engine

from adapters.authz.openfga import OpenFga, OpenFgaTupleWriter
from adapters.authz.relay import OutboxRelay, RelaySettings, backoff_seconds
from adapters.db import outbox
from adapters.db.outbox import OutboxStore, OutboxTable, PiccoloOutbox
from adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from domain.ports import Authorizer, Clock, RelationChange, UnitOfWorkFactory
from domain.use_cases.comments import CreateComment
from domain.use_cases.posts import CreatePost, DeletePost
from tests.fakes import OwnerAuthorizer, principal
from tests.support.eventually import eventually
from tests.support.fake_openfga import FakeOpenFGA, TupleKey
from tests.support.openfga import opened, written

ALICE, BOB = principal("alice"), principal("bob")
LEASE = 60.0


class MovableClock:
    """Wall-clock time plus an offset the test advances."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


class OpenFGABefore110(FakeOpenFGA):
    """An OpenFGA older than 1.10: it knows no on_duplicate/on_missing, so a repeat is a 400."""

    def _write(self, store_id: str, body: Any) -> Any:
        stripped = {
            key: {k: v for k, v in value.items() if k not in ("on_duplicate", "on_missing")}
            if isinstance(value, dict)
            else value
            for key, value in body.items()
        }
        return super()._write(store_id, stripped)


@pytest.fixture
def fga() -> Iterator[FakeOpenFGA]:
    with FakeOpenFGA() as server:
        yield server


@pytest.fixture
async def fga_client(fga) -> AsyncIterator[OpenFga]:
    async with opened(fga) as fga_client:
        yield fga_client


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def wakes() -> list[None]:
    return []


@pytest.fixture
def uow(engine, clock, wakes) -> PiccoloUnitOfWorkFactory:
    return PiccoloUnitOfWorkFactory(engine, PiccoloOutbox(clock), on_outbox_commit=lambda: wakes.append(None))


@pytest.fixture
def wired(make_container, engine, uow, clock) -> Any:
    """The app's wiring on the test's database, with this unit of work (its outbox wakes ``wakes``)
    and clock: ``wired[CreatePost]`` is the use case the app runs."""
    return make_container(ports={Engine: engine, UnitOfWorkFactory: uow, Clock: clock, Authorizer: OwnerAuthorizer()})


def make_relay(engine, fga_client, clock, store: OutboxStore | None = None, **settings: Any) -> OutboxRelay:
    return OutboxRelay(
        store or OutboxStore(engine),
        OpenFgaTupleWriter(fga_client),
        RelaySettings(**{"lease_seconds": LEASE, **settings}),
        clock,
    )


def owner(user, kind: str, item_id) -> TupleKey:
    return (f"user:{user.id}", "owner", f"{kind}:{item_id}")


async def rows() -> list[dict[str, Any]]:
    return await OutboxTable.select().order_by(OutboxTable.id)


async def test_create_records_the_tuple_with_the_row_and_wakes_the_relay_after_commit(uow, clock, wakes, wired):
    post = await wired[CreatePost](ALICE, "hello")

    [row] = await rows()
    assert (row["op"], row["subject"], row["relation"], row["object"]) == ("write", *owner(ALICE, "post", post.id))
    assert row["delivered_at"] is None
    assert wakes == [None]


async def test_a_rolled_back_unit_of_work_leaves_no_outbox_row_and_wakes_nobody(uow, wakes):
    with pytest.raises(ZeroDivisionError):
        async with uow() as tx:
            await tx.outbox.record([RelationChange("write", "user:1", "owner", "post:1")])
            _ = 1 / 0
    assert await rows() == []
    assert wakes == []


async def test_server_down_during_create_the_tuple_waits_and_is_delivered_later(
    uow, clock, engine, fga_client, fga, wired
):
    fga.stop()
    post = await wired[CreatePost](ALICE, "written while OpenFGA is down")
    relay = make_relay(engine, fga_client, clock)

    failed = await relay.run_once()
    assert (failed.claimed, failed.delivered, failed.failed) == (1, 0, 1)
    [row] = await rows()
    assert row["delivered_at"] is None
    assert row["attempts"] == 1
    assert row["claimed_by"] is None
    assert "ClientConnectorError" in row["last_error"]
    assert row["next_attempt_at"] > clock.now(), "backed off"

    fga.start()
    assert (await relay.run_once()).claimed == 0, "not before its backoff ends"
    clock.advance(2)
    assert (await relay.run_once()).delivered == 1

    assert fga.tuples == {owner(ALICE, "post", post.id)}
    [row] = await rows()
    assert row["delivered_at"] is not None
    assert (await relay.report())["outbox"] == {"pending": 0, "oldest_pending_age_seconds": None}


async def test_a_500_then_a_200(uow, clock, engine, fga_client, fga, wired):
    post = await wired[CreatePost](ALICE, "hello")
    relay = make_relay(engine, fga_client, clock)
    fga.fail_next(1, 500)

    assert (await relay.run_once()).failed == 1
    clock.advance(2)
    assert (await relay.run_once()).delivered == 1

    assert fga.write_count == 2
    assert fga.tuples == {owner(ALICE, "post", post.id)}


async def test_delivering_twice_is_harmless(uow, clock, engine, fga_client, fga, wired):
    post = await wired[CreatePost](ALICE, "hello")
    fga.add_tuples(owner(ALICE, "post", post.id))  # e.g. delivered before, by a relay that died

    assert (await make_relay(engine, fga_client, clock).run_once()).delivered == 1
    assert fga.tuples == {owner(ALICE, "post", post.id)}
    assert [row["delivered_at"] is not None for row in await rows()] == [True]


async def test_an_older_openfga_answering_already_exists_and_does_not_exist_counts_as_delivered(
    uow, clock, engine, wired
):
    with OpenFGABefore110() as old_server:
        async with opened(old_server) as old_client:
            post = await wired[CreatePost](ALICE, "one")
            gone = await wired[CreatePost](BOB, "two")
            async with uow() as tx:  # a delete of a tuple the server never had
                await tx.outbox.record([RelationChange.owner("delete", BOB.id, "post", gone.id)])
                await tx.commit()
            old_server.add_tuples(owner(ALICE, "post", post.id))  # and a write it already has
            relay = make_relay(engine, old_client, clock)

            total = await relay.drain()

    assert total.delivered == 3
    assert total.failed == 0
    assert old_server.tuples == {owner(ALICE, "post", post.id)}
    assert all(row["delivered_at"] is not None for row in await rows())


async def test_a_crash_between_delivery_and_marking_redelivers_after_the_lease(
    uow, clock, engine, fga_client, fga, wired
):
    class CrashAfterDelivery(OutboxStore):
        async def mark_delivered(self, ids, now):
            raise RuntimeError("the relay's process died here")

    post = await wired[CreatePost](ALICE, "hello")
    crashing = make_relay(engine, fga_client, clock, store=CrashAfterDelivery(engine))
    survivor = make_relay(engine, fga_client, clock)

    with pytest.raises(RuntimeError):
        await crashing.run_once()
    assert fga.tuples == {owner(ALICE, "post", post.id)}, "delivered..."
    [row] = await rows()
    assert row["delivered_at"] is None, "...but not marked"
    assert row["claimed_by"] == crashing.name

    assert (await survivor.run_once()).claimed == 0, "the claim holds until its lease runs out"
    clock.advance(LEASE + 1)
    assert (await survivor.run_once()).delivered == 1

    assert fga.write_count == 2
    assert fga.tuples == {owner(ALICE, "post", post.id)}
    [row] = await rows()
    assert row["delivered_at"] is not None


async def test_changes_of_one_object_are_delivered_in_order(uow, clock, engine, fga_client, fga, wired):
    post = await wired[CreatePost](ALICE, "short-lived")
    comment = await wired[CreateComment](BOB, post.id, "on it")
    await wired[DeletePost](ALICE, post.id)
    relay = make_relay(engine, fga_client, clock)
    fga.fail_next(1, 500)

    first = await relay.run_once()
    # The post's and the comment's first writes were due; everything else waits behind them.
    assert (first.claimed, first.failed) == (2, 2)
    clock.advance(2)
    passes = [await relay.run_once() for _ in range(4)]
    # post: owner write, delete; comment: owner write, post write, owner delete, post delete (one per pass)
    assert [p.delivered for p in passes] == [2, 2, 1, 1]
    assert (await relay.run_once()).claimed == 0

    sent = written(fga)  # every attempt, the failed one included
    comment_post = (f"post:{post.id}", "post", f"comment:{comment.id}")
    for key in (owner(ALICE, "post", post.id), owner(BOB, "comment", comment.id), comment_post):
        last_write = max(i for i, entry in enumerate(sent) if entry == ("write", key))
        assert last_write < sent.index(("delete", key))
    assert fga.tuples == set(), "a delete overtaking its write would have left the tuple behind"


async def test_a_refused_change_is_set_aside_and_the_rest_of_its_batch_delivered(
    uow, clock, engine, fga_client, fga, wired
):
    one = await wired[CreatePost](ALICE, "one")
    async with uow() as tx:
        await tx.outbox.record([RelationChange("write", "user:x", "owner", "folder:1")])  # not in the model
        await tx.commit()
    two = await wired[CreatePost](BOB, "two")

    result = await make_relay(engine, fga_client, clock).run_once()

    assert (result.claimed, result.delivered, result.failed) == (3, 2, 1)
    assert fga.tuples == {owner(ALICE, "post", one.id), owner(BOB, "post", two.id)}
    refused = next(row for row in await rows() if row["object"] == "folder:1")
    assert refused["delivered_at"] is None
    assert "type 'folder' not found" in refused["last_error"]
    assert (await make_relay(engine, fga_client, clock).report())["outbox"]["pending"] == 1


async def test_two_relays_racing_deliver_each_row_once(uow, clock, engine, fga_client, fga):
    async with uow() as tx:
        await tx.outbox.record([RelationChange("write", f"user:{i}", "owner", f"post:{i}") for i in range(40)])
        await tx.commit()
    fga.delay_seconds = 0.005  # keeps both relays in flight together
    one = make_relay(engine, fga_client, clock, batch_size=4)
    other = make_relay(engine, fga_client, clock, batch_size=4)

    results = await asyncio.gather(one.drain(), other.drain())

    assert sum(r.delivered for r in results) == 40
    counts = Counter(written(fga))
    assert len(counts) == 40
    assert set(counts.values()) == {1}, [key for key, n in counts.items() if n > 1]
    assert len(fga.tuples) == 40


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # SKIP LOCKED is PostgreSQL's; SQLite has one writer
async def test_on_postgresql_a_claim_skips_rows_another_relay_has_locked(db_url, uow, clock, engine):
    async with uow() as tx:
        await tx.outbox.record([RelationChange("write", f"user:{i}", "owner", f"post:{i}") for i in range(6)])
        await tx.commit()
    ids = [row["id"] for row in await rows()]
    store = OutboxStore(engine)

    other = await asyncpg.connect(db_url)
    try:
        async with other.transaction():
            # Another relay, in the middle of its claim, holds the first three rows.
            await other.execute("SELECT id FROM relation_outbox WHERE id = ANY($1::bigint[]) FOR UPDATE", ids[:3])
            async with asyncio.timeout(5):  # waiting on the lock instead of skipping would hang here
                claimed = await store.claim("me", clock.now(), 10, clock.now() + timedelta(seconds=LEASE))
    finally:
        await other.close()

    assert [entry.id for entry in claimed] == ids[3:]


async def test_drain_retries_rows_in_backoff_at_once(uow, clock, engine, fga_client, fga, wired):
    post = await wired[CreatePost](ALICE, "hello")
    relay = make_relay(engine, fga_client, clock, backoff_base_seconds=300, backoff_max_seconds=300)
    fga.fail_next(1, 503)
    assert (await relay.run_once()).failed == 1

    total = await relay.drain()

    assert total.delivered == 1
    assert fga.tuples == {owner(ALICE, "post", post.id)}


async def test_drain_during_an_outage_stops_after_one_attempt(uow, clock, engine, fga_client, fga, wired):
    for i in range(3):
        await wired[CreatePost](ALICE, f"post {i}")
    fga.stop()

    total = await make_relay(engine, fga_client, clock).drain()

    assert (total.delivered, total.failed) == (0, 3)
    assert [row["attempts"] for row in await rows()] == [1, 1, 1]


async def test_the_backlog_report(uow, clock, engine, fga_client, fga, wired):
    relay = make_relay(engine, fga_client, clock)
    assert (await relay.report()) == {"outbox": {"pending": 0, "oldest_pending_age_seconds": None}}
    fga.stop()
    await wired[CreatePost](ALICE, "one")
    await wired[CreatePost](ALICE, "two")
    clock.advance(90)

    report = (await relay.report())["outbox"]

    assert report["pending"] == 2
    assert 90 <= report["oldest_pending_age_seconds"] < 3600


async def test_purge_drops_only_rows_delivered_long_enough_ago(uow, clock, engine, fga_client, fga, wired):
    await wired[CreatePost](ALICE, "delivered")
    relay = make_relay(engine, fga_client, clock)
    await relay.drain()
    fga.stop()
    await wired[CreatePost](ALICE, "pending")
    store = OutboxStore(engine)

    await store.purge(clock.now() - timedelta(hours=1))
    assert len(await rows()) == 2
    await store.purge(clock.now() + timedelta(seconds=1))
    [left] = await rows()
    assert left["delivered_at"] is None


async def test_the_background_relay_is_woken_by_a_commit(engine, fga_client, clock, fga, make_container):
    # Polling once an hour: only the wake-up after the commit can deliver within the test.
    relay = make_relay(engine, fga_client, clock, poll_seconds=3600)
    uow = PiccoloUnitOfWorkFactory(engine, PiccoloOutbox(clock), on_outbox_commit=relay.wake)
    create_post = make_container(ports={Engine: engine, UnitOfWorkFactory: uow, Clock: clock})[CreatePost]
    await relay.start()
    try:
        await asyncio.sleep(0.05)  # let it settle into its wait
        post = await create_post(ALICE, "hello")
        await eventually(lambda: bool(fga.tuples), "the tuple")
    finally:
        await relay.stop()
    assert fga.tuples == {owner(ALICE, "post", post.id)}


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap():
    for attempts, full in [(1, 1.0), (2, 2.0), (3, 4.0), (9, 256.0), (10, 300.0), (500, 300.0)]:
        delays = [backoff_seconds(attempts, 1.0, 300.0) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays), (attempts, delays)
    assert len({backoff_seconds(5, 1.0, 300.0) for _ in range(20)}) > 1, "jittered"


async def test_a_relay_never_started_ignores_wake_ups(engine, fga_client, clock):
    relay = make_relay(engine, fga_client, clock)
    relay.wake()
    await relay.stop()
    assert (await relay.report())["outbox"]["pending"] == 0


async def test_a_backfill_with_no_kind_to_queue_queues_nothing(engine, clock, monkeypatch):
    """A service made without the example domain has nothing in the backfill's list until
    `just new-resource` adds a kind: no statement to run, not even the lock of no table."""
    monkeypatch.setattr(outbox, "_BACKFILL", {})
    monkeypatch.setattr(outbox, "_BACKFILL_STATEMENTS", {})
    store = OutboxStore(engine)
    assert await store.enqueue_owners(clock.now()) == {}
    assert (await store.backlog()).pending == 0
