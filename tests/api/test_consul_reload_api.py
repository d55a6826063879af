"""Consul KV settings seen through the HTTP API: read at start-up, changed while running.

The app runs its real reload watcher (py-consul blocking queries) against the Consul stand-in,
which requires an ACL token. Each test waits for the effect with a deadline; none asserts timing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lagom import Container
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from adapters.auth.keys import KeySource
from app.container import build_container
from app.live_settings import SettingsStore
from app.main import create_app
from app.startup_settings import load_startup_settings
from tests.conftest import settings_env
from tests.support.eventually import eventually, log_count
from tests.support.fake_consul import FakeConsul
from tests.support.tokens import TestKeys

TOKEN = "s3cret"
WATCH = {"CONSUL_TOKEN": TOKEN, "CONSUL_POLL_SECONDS": "1", "CONSUL_TIMEOUT_SECONDS": "1"}


@pytest.fixture
def consul() -> Iterator[FakeConsul]:
    with FakeConsul(required_token=TOKEN) as server:
        yield server


@pytest.fixture
async def client(engine: Any, make_container: Callable[..., Container], consul: FakeConsul) -> AsyncIterator[Any]:
    async with AsyncTestClient(app=create_app(make_container(CONSUL_URL=consul.url, **WATCH))) as test_client:
        yield test_client


async def can_switch(client: Any, headers: dict[str, str]) -> bool:
    """Whether ``headers`` make an administrator: only one may switch maintenance (here: off, as it is)."""
    response = await client.patch("/v1/service-context", json={"maintenance": False}, headers=headers)
    assert response.status_code in (200, 403), response.text
    return response.status_code == 200


async def test_startup_read_overrides_the_environment(
    engine: Any, db_url: str, tmp_path: Path, keys: TestKeys, consul: FakeConsul
) -> None:
    consul.put("app/OIDC_AUDIENCE", "blog")
    environ = settings_env(db_url, tmp_path, CONSUL_URL=consul.url, OIDC_AUDIENCE="account", **WATCH)
    loaded = load_startup_settings(environ, tmp_path / "no.env")
    assert loaded.sources["OIDC_AUDIENCE"] == "consul"
    app = create_app(build_container(loaded, overrides={KeySource: keys}))

    async with AsyncTestClient(app=app) as client:
        refused = await client.get("/v1/users/me", headers=keys.headers("alice"))  # aud "account", azp "api"
        accepted = await client.get("/v1/users/me", headers=keys.headers("alice", aud="blog"))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "wrong audience"
    assert accepted.status_code == 200


async def test_admin_role_changed_in_consul_takes_effect_without_restart(
    client: Any, keys: TestKeys, consul: FakeConsul
) -> None:
    editor = keys.headers("bob", roles=("editor",))
    assert not await can_switch(client, editor)

    consul.put("app/OIDC_ADMIN_ROLE", "editor")

    await eventually(lambda: can_switch(client, editor), "OIDC_ADMIN_ROLE=editor applied")
    requests = consul.requests_to("/v1/kv/app/", "GET")
    assert all(r.headers.get("x-consul-token") == TOKEN for r in requests)


async def test_audience_changed_in_consul_refuses_tokens_for_another(
    client: Any, keys: TestKeys, consul: FakeConsul
) -> None:
    assert (await client.get("/v1/users/me", headers=keys.headers("carol"))).status_code == 200

    consul.put("app/OIDC_AUDIENCE", "blog")

    async def refused() -> bool:
        response = await client.get("/v1/users/me", headers=keys.headers("carol"))
        return response.status_code == 401 and response.json()["detail"] == "wrong audience"

    await eventually(refused, "OIDC_AUDIENCE=blog applied")
    assert (await client.get("/v1/users/me", headers=keys.headers("carol", aud="blog"))).status_code == 200


async def test_a_bad_value_is_rejected_and_the_last_good_settings_stay(
    client: Any, keys: TestKeys, consul: FakeConsul, caplog: pytest.LogCaptureFixture
) -> None:
    async def can_edit(headers: dict[str, str]) -> bool:
        return await can_switch(client, headers)

    editor, boss = keys.headers("bob", roles=("editor",)), keys.headers("dan", roles=("boss",))
    consul.put("app/OIDC_ADMIN_ROLE", "editor")
    await eventually(lambda: can_edit(editor), "OIDC_ADMIN_ROLE=editor applied")

    def rejections() -> int:
        return log_count(caplog, logging.ERROR, "rejected", "OIDC_LEEWAY_SECONDS='-5'")

    consul.put("app/OIDC_LEEWAY_SECONDS", "-5")
    await eventually(lambda: rejections() == 1, "the bad value rejected")
    consul.put("app/OIDC_ADMIN_ROLE", "boss")  # good on its own, but the settings as a whole are not
    await eventually(lambda: rejections() >= 2, "the next change rejected with it")
    assert await can_edit(editor), "the last good admin role stays"
    assert not await can_edit(boss)

    consul.delete("app/OIDC_LEEWAY_SECONDS")
    await eventually(lambda: can_edit(boss), "applied once the bad value is gone")
    assert not await can_edit(editor)


async def test_a_restart_only_key_is_logged_and_not_applied(
    client: Any, keys: TestKeys, consul: FakeConsul, caplog: pytest.LogCaptureFixture
) -> None:
    store: SettingsStore = client.app.state.container[SettingsStore]
    consul.put("app/DB_POOL_MAX", "3")

    await eventually(lambda: log_count(caplog, logging.WARNING, "DB_POOL_MAX", "restart") > 0, "restart warning")
    assert store.current.db_pool_max == 10  # what the pool was opened with
    assert store.loaded.settings.db_pool_max == 3
    assert (await client.get("/v1/users/me", headers=keys.headers("erin"))).status_code == 200


async def test_consul_down_mid_run_keeps_the_settings_and_recovers(
    client: Any, keys: TestKeys, consul: FakeConsul, caplog: pytest.LogCaptureFixture
) -> None:
    editor = keys.headers("bob", roles=("editor",))
    await asyncio.to_thread(consul.wait_for_blocked_queries)  # the watcher is waiting on Consul

    consul.stop()
    await eventually(lambda: log_count(caplog, logging.WARNING, "is unreachable") > 0, "the outage noticed")
    consul.put("app/OIDC_ADMIN_ROLE", "editor")  # cannot be seen while Consul is down
    assert not await can_switch(client, editor)
    assert (await client.get("/v1/users/me", headers=keys.headers("alice"))).status_code == 200

    consul.start()

    await eventually(lambda: can_switch(client, editor), "the change made during the outage applied after it")


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_the_database_budget_changed_in_consul_applies_without_restart(
    client: Any, keys: TestKeys, consul: FakeConsul
) -> None:
    """DB_REQUEST_TIMEOUT_MS is live: units of work that open after the change get the new budget."""
    container = client.app.state.container
    pool = container[Engine].pool
    assert pool.request_timeout == 3.0
    consul.put("app/DB_REQUEST_TIMEOUT_MS", "1500")
    await eventually(lambda: pool.request_timeout == 1.5, "DB_REQUEST_TIMEOUT_MS=1500 applied")
    assert container[SettingsStore].current.db_request_timeout_ms == 1500
    assert (await client.get("/v1/users/me", headers=keys.headers("erin"))).status_code == 200
