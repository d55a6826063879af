"""Admission control (app/http/admission.py): slots, the wait, who gets a freed slot, shedding.

Driven step by step: waiters are tasks parked on their slot, a slot is freed by calling
``leave()``, the clock that decides arrival order versus newest-first is a fake. No test
measures time; the only real waits are ones that nothing will ever end early.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from app.http.admission import RETRY_AFTER_SECONDS, Admission, AdmissionControl


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def parked(admission: Admission) -> asyncio.Task[bool]:
    """A request that found no free slot, waiting for one (its task has run up to the wait)."""
    task = asyncio.create_task(admission.wait())
    await asyncio.sleep(0)
    return task


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def full(limit: int = 2, max_wait: float = 60.0, clock: Clock | None = None) -> Admission:
    admission = Admission(limit, max_wait, clock=clock or Clock())
    for _ in range(limit):
        assert admission.try_enter()
    return admission


async def test_free_slots_are_taken_without_waiting_up_to_the_limit():
    admission = Admission(3, 0.5)
    assert [admission.try_enter() for _ in range(4)] == [True, True, True, False]
    assert admission.in_flight == 3
    admission.leave()
    assert (admission.in_flight, admission.try_enter()) == (2, True)


async def test_a_freed_slot_goes_to_the_longest_waiter_and_no_newcomer_overtakes():
    admission = full()
    first, second = await parked(admission), await parked(admission)
    admission.leave()
    assert admission.in_flight == 2, "the slot changed hands; it was never free"
    assert not admission.try_enter(), "a newcomer may not take a slot while others wait"
    await settle()
    assert first.done()
    assert first.result() is True
    assert not second.done()
    assert admission.waiting == 1
    admission.leave()
    assert await second is True
    assert (admission.in_flight, admission.waiting, admission.shed) == (2, 0, 0)


async def test_once_the_oldest_has_waited_half_the_bound_the_newest_goes_first():
    clock = Clock()
    admission = full(max_wait=1.0, clock=clock)
    oldest = await parked(admission)
    clock.now += 0.3
    middle = await parked(admission)
    clock.now += 0.1
    newest = await parked(admission)

    admission.leave()  # the oldest has waited 0.4 s of 1 s: arrival order
    await settle()
    assert (oldest.done(), middle.done(), newest.done()) == (True, False, False)

    clock.now += 0.5  # the oldest still waiting (middle) has waited 0.6 s, over half of 1 s: newest first
    admission.leave()
    await settle()
    assert (middle.done(), newest.done()) == (False, True)
    middle.cancel()
    await asyncio.gather(middle, return_exceptions=True)


async def test_with_no_wait_allowed_a_request_is_shed_at_once():
    admission = full(max_wait=0)
    assert await admission.wait() is False
    assert (admission.shed, admission.waiting, admission.in_flight) == (1, 0, 2)


async def test_a_wait_that_runs_out_is_shed_and_its_place_is_skipped():
    admission = full(max_wait=0.01)  # nothing leaves: the wait can only run out
    assert await admission.wait() is False
    assert (admission.shed, admission.waiting) == (1, 0)
    admission.leave()
    assert admission.in_flight == 1, "the slot is free again, not handed to the waiter that left"
    assert admission.try_enter()


async def test_a_request_cancelled_while_waiting_gives_up_its_place():
    admission = full()
    gone, stays = await parked(admission), await parked(admission)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert admission.waiting == 1
    admission.leave()
    assert await stays is True
    assert (admission.shed, admission.in_flight) == (0, 2)


async def test_a_slot_handed_over_to_a_request_cancelled_just_then_is_passed_on():
    admission = full()
    gone, next_one = await parked(admission), await parked(admission)
    admission.leave()  # the slot is handed to `gone`...
    gone.cancel()  # ...which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await next_one is True, "the slot went on to the next waiter"
    assert (admission.in_flight, admission.waiting) == (2, 0)
    admission.leave()
    admission.leave()
    assert admission.in_flight == 0, "no slot was lost or made up on the way"


async def test_a_higher_limit_lets_waiters_in_at_once_and_a_lower_one_applies_as_requests_leave():
    admission = full(limit=2)
    waiters = [await parked(admission) for _ in range(3)]
    admission.configure(4, 60.0)
    await settle()
    assert [w.done() for w in waiters] == [True, True, False]
    assert admission.in_flight == 4

    admission.configure(1, 60.0)
    for _ in range(3):
        admission.leave()
    assert admission.in_flight == 1
    assert not waiters[2].done(), "no slot is handed over while more than the limit are inside"
    admission.leave()
    assert await waiters[2] is True
    assert admission.in_flight == 1


async def test_a_limit_of_zero_admits_everything():
    admission = Admission(0, 0.5)
    assert all(admission.try_enter() for _ in range(10_000))


async def test_refusals_are_logged_once_per_period_with_their_count(caplog: pytest.LogCaptureFixture):
    clock = Clock()
    admission = full(max_wait=0, clock=clock)
    with caplog.at_level(logging.WARNING, logger="app.http.admission"):
        for _ in range(3):
            await admission.wait()
            clock.now += 1
        clock.now += 10
        await admission.wait()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("at capacity: 1 requests refused")
    assert lines[1].startswith("at capacity: 3 requests refused")
    assert admission.shed == 4


# -- the ASGI layer ----------------------------------------------------------------------------------


class App:
    """The app behind the layer: answers 200, or parks until released, or raises."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.hold = False
        self.fail = False
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        if self.hold:
            await self.release.wait()
        if self.fail:
            raise RuntimeError("boom")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def call(layer: AdmissionControl, path: str) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    await layer({"type": "http", "path": path, "method": "GET"}, receive, send)
    return sent


async def test_past_capacity_the_answer_is_a_503_problem_with_retry_after():
    app = App()
    layer = AdmissionControl(app, full(limit=1, max_wait=0))
    start, body = await call(layer, "/v1/posts")
    headers = dict(start["headers"])
    assert start["status"] == 503
    assert headers[b"content-type"] == b"application/problem+json"
    assert headers[b"retry-after"] == b"%d" % RETRY_AFTER_SECONDS
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert int(headers[b"content-length"]) == len(body["body"])
    problem = json.loads(body["body"])
    assert (problem["status"], problem["title"], problem["instance"]) == (503, "Service Unavailable", "/v1/posts")
    assert app.calls == 0, "a shed request never reaches the app"


async def test_health_and_metrics_go_through_when_full_under_the_prefix_too():
    app = App()
    layer = AdmissionControl(app, full(limit=1, max_wait=0), prefix="/blog")
    for path in ("/blog/health/live", "/blog/health/ready", "/blog/metrics"):
        assert (await call(layer, path))[0]["status"] == 200, path
    assert (await call(layer, "/blog/v1/posts"))[0]["status"] == 503
    assert (await call(layer, "/health/live"))[0]["status"] == 503, "outside the prefix it is no health route"


async def test_a_slot_is_released_when_the_app_fails_and_when_it_answers():
    app, admission = App(), Admission(1, 0)
    layer = AdmissionControl(app, admission)
    app.fail = True
    with pytest.raises(RuntimeError):
        await call(layer, "/v1/posts")
    app.fail = False
    assert (await call(layer, "/v1/posts"))[0]["status"] == 200
    assert admission.in_flight == 0


async def test_a_request_waits_for_a_slot_and_is_served_when_one_frees():
    app, admission = App(), Admission(1, 60.0)
    layer = AdmissionControl(app, admission)
    app.hold = True
    holder = asyncio.create_task(call(layer, "/v1/posts"))
    await settle()
    app.hold = False
    waiter = asyncio.create_task(call(layer, "/v1/posts/1"))
    await settle()
    assert (admission.in_flight, admission.waiting, app.calls) == (1, 1, 1)
    app.release.set()
    assert [m[0]["status"] for m in await asyncio.gather(holder, waiter)] == [200, 200]
    assert (admission.in_flight, admission.shed) == (0, 0)
