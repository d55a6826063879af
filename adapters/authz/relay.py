"""The outbox relay: delivers the relationship changes recorded in the database to OpenFGA.

One pass: claim due rows (a short transaction that leases them to this relay), deliver them with no
transaction open, then mark them delivered or failed (another short transaction). Hence:

* nothing is lost: a row stays pending until a delivery succeeded *and* was marked; if the relay dies
  in between, the lease runs out and the row is delivered again — which is harmless, because
  delivery is idempotent (duplicate writes and missing deletes count as success);
* order per object: a row is claimed only when every earlier row for its object is delivered, so a
  post's "write owner" always reaches OpenFGA before its "delete owner";
* failures are retried with exponential backoff and jitter, capped (``OUTBOX_BACKOFF_*``);
* several relays (app instances, ``just relay``) share the work: PostgreSQL's FOR UPDATE SKIP LOCKED
  and the lease keep any row from being delivered by two of them at the same time.

In the app it runs as a background task, woken right after a commit that recorded entries and
polling every ``OUTBOX_POLL_SECONDS`` as a fallback; ``just relay`` drains it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from adapters.authz.openfga import DeliveryRefused
from adapters.db.outbox import OutboxEntry, OutboxStore
from domain.ports import Clock, RelationChange

log = logging.getLogger(__name__)

_PURGE_EVERY_SECONDS = 3600.0


class TupleSink(Protocol):
    async def apply(self, changes: Sequence[RelationChange]) -> None:
        """Apply all changes or none. Raise ``DeliveryRefused`` when the server refuses them as invalid
        (they may then be tried one by one), anything else when it could not be reached."""
        ...


@dataclass(frozen=True, slots=True)
class RelaySettings:
    poll_seconds: float = 5.0
    batch_size: int = 50
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 300.0
    lease_seconds: float = 60.0
    keep_delivered_seconds: float = 86_400.0


@dataclass(frozen=True, slots=True)
class PassResult:
    claimed: int = 0
    delivered: int = 0
    failed: int = 0

    def __add__(self, other: PassResult) -> PassResult:
        return PassResult(self.claimed + other.claimed, self.delivered + other.delivered, self.failed + other.failed)


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """Delay before attempt ``attempts + 1``: exponential, capped, with "equal jitter" (half fixed,
    half random) so that rows that failed together do not all come back at the same instant."""
    delay = min(cap, base * 2.0 ** min(attempts - 1, 62))
    return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not a secret


def _no_span(_: int) -> contextlib.nullcontext[None]:
    return contextlib.nullcontext()


class OutboxRelay:
    def __init__(
        self,
        store: OutboxStore,
        sink: TupleSink,
        settings: RelaySettings,
        clock: Clock,
        *,
        name: str | None = None,
    ) -> None:
        self._store = store
        self._sink = sink
        self._settings = settings
        self._clock = clock
        # Who holds a claim: unique per relay, readable in the table when debugging.
        self.name = name or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # Around the delivery of a claimed batch and the recording of its outcome: the composition
        # root sets a tracing span here when tracing is on (app/tracing.py); otherwise nothing.
        self.batch_span: Callable[[int], contextlib.AbstractContextManager[Any]] = _no_span

    # -- one pass ------------------------------------------------------------------------
    def configure(self, settings: RelaySettings) -> None:
        """New timing (live settings); the next pass uses it."""
        self._settings = settings

    async def run_once(self) -> PassResult:
        """Claim a batch of due rows, deliver them, record the outcome."""
        now = self._clock.now()
        rows = await self._store.claim(
            self.name, now, self._settings.batch_size, now + timedelta(seconds=self._settings.lease_seconds)
        )
        if not rows:
            return PassResult()
        with self.batch_span(len(rows)):
            delivered, failed = await self._deliver(rows)
            now = self._clock.now()
            await self._store.mark_delivered([row.id for row in delivered], now)
            await self._store.mark_failed(
                self.name,
                [
                    (
                        row.id,
                        now
                        + timedelta(
                            seconds=backoff_seconds(
                                row.attempts + 1,
                                self._settings.backoff_base_seconds,
                                self._settings.backoff_max_seconds,
                            )
                        ),
                        reason,
                    )
                    for row, reason in failed
                ],
            )
            if failed:
                log.warning(
                    "outbox: %d of %d relationship change(s) not delivered, will retry: %s",
                    len(failed),
                    len(rows),
                    failed[0][1],
                )
        return PassResult(claimed=len(rows), delivered=len(delivered), failed=len(failed))

    async def _deliver(self, rows: Sequence[OutboxEntry]) -> tuple[list[OutboxEntry], list[tuple[OutboxEntry, str]]]:
        delivered: list[OutboxEntry] = []
        failed: list[tuple[OutboxEntry, str]] = []
        try:
            # Well inside the lease, so no other relay takes these rows over while we still send them.
            async with asyncio.timeout(self._settings.lease_seconds / 2):
                try:
                    await self._sink.apply([row.change for row in rows])
                    return list(rows), []
                except DeliveryRefused as refused:
                    if len(rows) == 1:
                        return [], [(rows[0], str(refused))]
                # One refused tuple refuses the whole write: find it, deliver the others.
                for row in rows:
                    try:
                        await self._sink.apply([row.change])
                    except DeliveryRefused as refused:
                        failed.append((row, str(refused)))
                    else:
                        delivered.append(row)
        except Exception as exc:  # unreachable, 5xx, timed out: whatever is left waits for the next attempt
            reason = _describe(exc)
            done = {row.id for row in delivered} | {row.id for row, _ in failed}
            failed.extend((row, reason) for row in rows if row.id not in done)
        return delivered, failed

    # -- one-shot drain (`just relay`) ----------------------------------------------------
    async def drain(self) -> PassResult:
        """Deliver everything pending now, ignoring backoff (not other relays' claims); each row is
        tried at most once per drain, so an outage ends the drain instead of looping."""
        await self._store.make_due(self._clock.now())
        total = PassResult()
        while True:
            result = await self.run_once()
            total += result
            if not result.delivered:
                return total

    # -- in the app ----------------------------------------------------------------------
    def wake(self) -> None:
        """Called right after a commit that recorded entries (on the event loop)."""
        if self._wake is not None:
            self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Let the current pass finish (bounded), then stop. Anything interrupted is redelivered later."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self.wake()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace_seconds)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._wake = None

    async def _run(self) -> None:
        assert self._wake is not None
        wake = self._wake
        last_purge = -float("inf")
        loop = asyncio.get_running_loop()
        while not self._stopping:
            wake.clear()
            try:
                result = await self.run_once()
            except Exception:
                log.warning("outbox relay pass failed; retrying after the poll interval", exc_info=True)
                result = PassResult()
            if result.delivered and not self._stopping:
                continue  # more may be due, e.g. the next change of an object just delivered
            try:
                await asyncio.wait_for(wake.wait(), self._settings.poll_seconds)
            except TimeoutError:
                if loop.time() - last_purge >= _PURGE_EVERY_SECONDS:
                    last_purge = loop.time()
                    await self._purge()

    async def _purge(self) -> None:
        before = self._clock.now() - timedelta(seconds=self._settings.keep_delivered_seconds)
        try:
            await self._store.purge(before)
        except Exception:
            log.warning("outbox purge failed", exc_info=True)

    async def report(self) -> dict[str, Any]:
        """For GET /health/ready: how many changes wait for delivery, and for how long the oldest."""
        backlog = await self._store.backlog()
        age = None
        if backlog.oldest_created_at is not None:
            age = round(max(0.0, (self._clock.now() - backlog.oldest_created_at).total_seconds()), 3)
        return {"outbox": {"pending": backlog.pending, "oldest_pending_age_seconds": age}}


def _describe(exc: BaseException) -> str:
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    text = str(cause) or type(cause).__name__
    return f"{type(cause).__name__}: {text}"
