"""Admission control through the whole app: requests truly in flight together (the app on the
test's loop, tests/support/asgi_client.py), a slot held by a request whose body has not finished
arriving, the settings changed while it runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from lagom import Container

from app.http.admission import AdmissionControl
from app.live_settings import SettingsStore
from app.main import create_app
from app.settings_layers import with_layer
from tests.support.asgi_client import concurrent_client
from tests.support.eventually import eventually
from tests.support.tokens import TestKeys


class HeldRequest:
    """An administrator's `PATCH /v1/service-context` inside the app (it holds a slot) until ``release`` is set."""

    def __init__(self) -> None:
        self.inside = asyncio.Event()
        self.release = asyncio.Event()

    async def body(self) -> AsyncIterator[bytes]:
        yield b'{"maintenance": '
        self.inside.set()
        await self.release.wait()
        yield b"false}"


async def test_past_its_slots_the_app_sheds_serves_health_and_takes_new_limits_live(
    engine: Any, make_container: Callable[..., Container], keys: TestKeys
) -> None:
    container = make_container(ADMISSION_MAX_IN_FLIGHT="1", ADMISSION_MAX_WAIT_MS="0", METRICS_ENABLED="true")
    auth, admin = keys.headers("alice"), keys.headers("root", ("admin",))
    async with concurrent_client(create_app(container)) as live:
        held = HeldRequest()
        write = asyncio.create_task(
            live.patch(
                "/v1/service-context", content=held.body(), headers={**admin, "content-type": "application/json"}
            )
        )
        await asyncio.wait_for(held.inside.wait(), 10)

        shed = await live.get("/v1/users/me", headers=auth)
        assert shed.status_code == 503
        assert shed.headers["retry-after"] == "1"
        assert shed.headers["content-type"] == "application/problem+json"
        assert shed.json()["instance"] == "/v1/users/me"
        assert (await live.get("/health/live")).status_code == 200
        metrics = (await live.get("/metrics")).text
        assert "http_requests_in_flight 1.0" in metrics
        assert "http_requests_shed_total 1.0" in metrics

        store = container[SettingsStore]
        store.replace(with_layer(store.loaded, "consul", {"ADMISSION_MAX_IN_FLIGHT": "2"}))
        assert (await live.get("/v1/users/me", headers=auth)).status_code == 200, "a second slot, without a restart"

        held.release.set()
        assert (await write).status_code == 200
        assert (await live.get("/v1/service-context", headers=auth)).json()["maintenance"] is False


async def test_a_request_waits_for_a_slot_within_the_bound_instead_of_being_shed(
    engine: Any, make_container: Callable[..., Container], keys: TestKeys
) -> None:
    app = create_app(make_container(ADMISSION_MAX_IN_FLIGHT="1", ADMISSION_MAX_WAIT_MS="30000"))
    assert isinstance(app.edge, AdmissionControl)
    admission = app.edge.admission
    auth, admin = keys.headers("alice"), keys.headers("root", ("admin",))
    async with concurrent_client(app) as live:
        held = HeldRequest()
        write = asyncio.create_task(
            live.patch(
                "/v1/service-context", content=held.body(), headers={**admin, "content-type": "application/json"}
            )
        )
        await asyncio.wait_for(held.inside.wait(), 10)
        waiting = asyncio.create_task(live.get("/v1/users/me", headers=auth))
        await eventually(lambda: admission.waiting == 1, "the GET waits for the slot")
        assert not waiting.done()
        held.release.set()
        responses: list[httpx.Response] = await asyncio.gather(write, waiting)
        assert [r.status_code for r in responses] == [200, 200]
