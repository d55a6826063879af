"""Maintenance mode over HTTP and the CLI: the switch, the 503s, the exemptions, persistence.
Two separate server processes on one database: tests/integration/test_served.py."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from litestar import post
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.maintenance import EXEMPT_PATHS
from tests.support.problems import assert_problem

REPO_ROOT = Path(__file__).resolve().parents[2]
# region: webhook
(WEBHOOK_PATH,) = EXEMPT_PATHS
# endregion


async def switch(client, keys, on: bool):
    response = await client.patch(
        "/v1/service-context", json={"maintenance": on}, headers=keys.headers("root", ("admin",))
    )
    assert response.status_code == 200, response.text
    return response.json()


def assert_maintenance(response):
    problem = assert_problem(response, 503)
    assert "maintenance" in problem["detail"]
    assert int(response.headers["retry-after"]) > 0


async def test_service_context_reads_and_admin_switches_it(client, keys):
    initial = await client.get("/v1/service-context", headers=keys.headers())
    assert initial.status_code == 200
    assert initial.json() == {"maintenance": False, "updated_at": "1970-01-01T00:00:00Z"}

    on = await switch(client, keys, True)
    assert set(on) == {"maintenance", "updated_at"}
    assert on["maintenance"] is True
    assert on["updated_at"] > "2000"
    assert (await client.get("/v1/service-context", headers=keys.headers())).json() == on

    off = await switch(client, keys, False)
    assert off["maintenance"] is False
    assert (await client.get("/v1/users/me", headers=keys.headers())).status_code == 200


async def test_only_an_admin_may_switch_and_bad_bodies_change_nothing(client, keys):
    assert_problem(await client.patch("/v1/service-context", json={"maintenance": True}, headers=keys.headers()), 403)
    assert_problem(await client.patch("/v1/service-context", json={"maintenance": True}), 401)
    admin = keys.headers("root", ("admin",))
    for body in ({}, {"maintenance": "yes"}, {"maintenance": True, "extra": 1}, []):
        assert_problem(await client.patch("/v1/service-context", json=body, headers=admin), 400)
    assert (await client.get("/v1/service-context", headers=keys.headers())).json()["maintenance"] is False
    assert_problem(await client.get("/v1/service-context"), 401)


async def test_while_on_every_route_answers_503_except_the_exempt_ones(client, keys):
    # region: blog
    created = await client.post("/v1/posts", json={"content": "before"}, headers=keys.headers())
    assert created.status_code == 201
    # endregion
    await switch(client, keys, True)

    user = keys.headers()
    # region: blog
    assert_maintenance(await client.get("/v1/posts", headers=user))
    assert_maintenance(await client.get(created.headers["location"], headers=user))
    assert_maintenance(await client.post("/v1/posts", json={"content": "during"}, headers=user))
    assert_maintenance(
        await client.post("/v1/comments", json={"post_id": created.json()["id"], "content": "x"}, headers=user)
    )
    # endregion
    assert_maintenance(await client.get("/v1/users/me", headers=user))
    assert_maintenance(await client.get(f"/v1/users/{keys.user_id('alice')}", headers=user))
    assert_maintenance(await client.get("/v1/users/me")), "maintenance is told before the token is checked"

    assert (await client.get("/health/live")).status_code == 200
    assert (await client.get("/health/ready")).status_code == 200
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/docs/openapi.json")).status_code == 200
    assert (await client.get("/docs/redoc")).status_code == 200
    assert (await client.get("/docs/assets/swagger-ui.css")).status_code == 200
    assert (await client.get("/v1/service-context", headers=user)).json()["maintenance"] is True

    await switch(client, keys, False)
    assert (await client.get("/v1/users/me", headers=user)).status_code == 200
    # region: blog
    listing = await client.get("/v1/posts", headers=user)
    assert listing.status_code == 200
    assert [p["content"] for p in listing.json()["items"]] == ["before"], "nothing was written during maintenance"
    # endregion


# region: webhook
async def test_the_keycloak_webhook_stays_up(engine, make_container, keys):
    app = create_app(make_container())
    if not any(route.path == WEBHOOK_PATH for route in app.routes):
        # Until the webhook is on this branch: a stand-in at its path, declared without any opt.
        @post(WEBHOOK_PATH, status_code=204, include_in_schema=False)
        async def webhook_stand_in() -> None:
            return None

        app.register(webhook_stand_in)
    async with AsyncTestClient(app=app) as client:
        await switch(client, keys, True)
        assert_maintenance(await client.get("/v1/users/me", headers=keys.headers()))
        response = await client.post(WEBHOOK_PATH, content=b"{}", headers={"content-type": "application/json"})
        assert response.status_code < 500 or "maintenance" not in response.text, response.text


# endregion


async def test_it_survives_a_restart(engine, make_container, keys):
    async with AsyncTestClient(app=create_app(make_container())) as client:
        await switch(client, keys, True)
    async with AsyncTestClient(app=create_app(make_container())) as client:
        assert_maintenance(await client.get("/v1/users/me", headers=keys.headers()))
        await switch(client, keys, False)
    async with AsyncTestClient(app=create_app(make_container())) as client:
        assert (await client.get("/v1/users/me", headers=keys.headers())).status_code == 200


async def eventually(probe, expected_status: int, deadline_s: float = 10.0) -> None:
    """Poll until the probe answers ``expected_status``; no timing is asserted, only an upper bound."""
    give_up = time.monotonic() + deadline_s
    while True:
        status = (await probe()).status_code
        if status == expected_status:
            return
        assert time.monotonic() < give_up, f"still {status}, expected {expected_status}"
        await asyncio.sleep(0.05)


def cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url, "ENV_FILE": "/nonexistent", "APP_ENV": "test"}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "maintenance", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_cli_switches_it_for_running_instances(db_url, engine, make_container, keys):
    user = keys.headers()
    async with AsyncTestClient(app=create_app(make_container(MAINTENANCE_CACHE_SECONDS="0.2"))) as client:
        status = await asyncio.to_thread(cli, db_url, "status")
        assert status.returncode == 0, status.stderr
        assert status.stdout.startswith("maintenance off")

        on = await asyncio.to_thread(cli, db_url, "on")
        assert on.returncode == 0, on.stderr
        assert on.stdout.startswith("maintenance on")
        assert "operator" in on.stdout
        await eventually(lambda: client.get("/v1/users/me", headers=user), 503)
        assert (await client.get("/v1/service-context", headers=user)).json()["maintenance"] is True

        off = await asyncio.to_thread(cli, db_url, "off")
        assert off.returncode == 0, off.stderr
        assert off.stdout.startswith("maintenance off (since")
        await eventually(lambda: client.get("/v1/users/me", headers=user), 200)


def test_the_cli_refuses_an_unknown_state_and_reports_a_dead_database():
    assert cli("sqlite:///unused.sqlite3", "maybe").returncode == 2
    down = cli("postgresql://nobody@127.0.0.1:1/none", "status")
    assert down.returncode == 1
    assert "database is unavailable" in down.stderr
