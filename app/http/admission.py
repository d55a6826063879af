"""Admission control: a worker takes in no more requests than it can serve soon, and refuses the
rest quickly instead of letting every request in flight slow down.

Past what one worker can serve, each extra request joins the event loop and the database pool's
queue and makes every request in flight later; after the load stops, the worker still spends
seconds on requests whose clients have gone (benchmarks/README.md, "Overload"). So:

- at most ``ADMISSION_MAX_IN_FLIGHT`` requests per worker are inside the app at once;
- the next ones wait for a slot, at most ``ADMISSION_MAX_WAIT_MS``: in arrival order while the
  queue moves, newest first once the oldest has waited half of that ("adaptive LIFO"). The old
  ones would mostly time out anyway, and their clients may have given up; served first, fresh
  requests get through at once, during a storm and in the second after it ends;
- a request still waiting then is shed: 503 problem+json with ``Retry-After: 1``, before its token
  is checked or a query runs.

``/health/*`` and ``/metrics`` always go through: an overloaded worker is alive, and the operator
needs to see it. This is the outermost layer, in front of the edge (app/http/observe.py): a shed
request gets no request id and no access line of its own, because under overload a log line per
refusal would cost more than the refusal (about 20 µs against 2 µs) and flood the logs exactly
when they matter. Refusals are counted instead (``http_requests_shed_total``) and logged as one
warning per ``LOG_EVERY_SECONDS`` while they last. Below the limit the layer costs a comparison
and two increments per request; nothing waits, nothing allocates.

Why a bounded wait and not an immediate refusal (or a CoDel-style shorter wait while the queue
stands): clients that ignore ``Retry-After`` send again the moment they are refused, so the
shorter the wait, the more of the worker's time goes to refusing. The wait paces them.

Both settings change without a restart (``configure``); ``ADMISSION_MAX_IN_FLIGHT=0`` turns the
limit off.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.http.problems import PROBLEM_JSON, problem_bytes

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Send

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1
SHED_DETAIL = "the service is at capacity; retry after the time in Retry-After"
LOG_EVERY_SECONDS = 10.0


class Admission:
    """The request slots of one worker: ``limit`` inside at once, the others waiting.

    A slot that a request leaves goes straight to a waiter (``in_flight`` does not change), so a
    newcomer never overtakes the queue. A waiter that gives up is marked and skipped rather than
    searched for; ``waiting`` counts the live ones.
    """

    def __init__(self, limit: int, max_wait: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.in_flight = 0
        self.waiting = 0
        self.shed = 0  # requests refused since start
        self._queue: deque[tuple[float, asyncio.Future[None]]] = deque()  # (since, slot), oldest first
        self._clock = clock
        self._logged_at = float("-inf")
        self._logged_shed = 0
        self.configure(limit, max_wait)

    def configure(self, limit: int, max_wait: float) -> None:
        """New bounds, live: a higher limit lets waiters in at once; a lower one applies as requests leave."""
        self.limit = limit
        self.max_wait = max_wait
        self._capacity = limit or sys.maxsize
        while self.in_flight < self._capacity and self._hand_over():
            self.in_flight += 1

    def try_enter(self) -> bool:
        """Take a free slot if there is one and nobody is waiting for it (no await: the hot path)."""
        if self.in_flight < self._capacity and not self.waiting:
            self.in_flight += 1
            return True
        return False

    async def wait(self) -> bool:
        """Wait for a slot, at most ``max_wait`` seconds: True once it is ours, False if none came
        in time (the request is then counted as shed)."""
        if self.max_wait > 0:
            slot = asyncio.get_running_loop().create_future()
            self._queue.append((self._clock(), slot))
            self.waiting += 1
            try:
                async with asyncio.timeout(self.max_wait):
                    await slot
                return True
            except TimeoutError:
                self._give_up(slot)
            except asyncio.CancelledError:  # the request itself was cancelled while it waited
                self._give_up(slot)
                raise
        self._count_shed()
        return False

    def leave(self) -> None:
        """A request is done with its slot: a waiter gets it, or it is free again."""
        if self.in_flight <= self._capacity and self._hand_over():
            return
        self.in_flight -= 1

    def _hand_over(self) -> bool:
        queue = self._queue
        while queue and queue[0][1].done():  # waiters that gave up
            queue.popleft()
        while queue and queue[-1][1].done():
            queue.pop()
        if not queue:
            return False
        stale = self._clock() - queue[0][0] > self.max_wait / 2
        _, slot = queue.pop() if stale else queue.popleft()
        slot.set_result(None)
        self.waiting -= 1
        return True

    def _give_up(self, slot: asyncio.Future[None]) -> None:
        if slot.done() and not slot.cancelled():
            self.leave()  # the slot was handed over just as the wait ended: pass it on
        else:
            slot.cancel()  # _hand_over skips it
            self.waiting -= 1

    def _count_shed(self) -> None:
        self.shed += 1
        now = self._clock()
        if now - self._logged_at >= LOG_EVERY_SECONDS:
            log.warning(
                "at capacity: %d requests refused with 503 since the last report (%d in flight, %d waiting, "
                "ADMISSION_MAX_IN_FLIGHT=%d, ADMISSION_MAX_WAIT_MS=%d)",
                self.shed - self._logged_shed,
                self.in_flight,
                self.waiting,
                self.limit,
                round(self.max_wait * 1000),
            )
            self._logged_at, self._logged_shed = now, self.shed


class AdmissionControl:
    """The ASGI layer over ``Admission`` (HTTP only; lifespan passes through)."""

    def __init__(self, app: ASGIApp, admission: Admission, prefix: str = "") -> None:
        self.app = app
        self.admission = admission
        self._exempt = (prefix + "/health/", prefix + "/metrics")

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        admission = self.admission
        if scope["type"] != "http" or scope["path"].startswith(self._exempt):
            await self.app(scope, receive, send)
        elif admission.try_enter() or await admission.wait():
            try:
                await self.app(scope, receive, send)
            finally:
                admission.leave()
        else:
            await _shed(scope["path"], send)


_SHED_HEADERS = [
    (b"content-type", PROBLEM_JSON.encode()),
    (b"retry-after", b"%d" % RETRY_AFTER_SECONDS),
    (b"x-content-type-options", b"nosniff"),  # as on every response (app/http/hardening.py)
]


async def _shed(path: str, send: Send) -> None:
    body = problem_bytes(503, SHED_DETAIL, path)
    headers = [*_SHED_HEADERS, (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
