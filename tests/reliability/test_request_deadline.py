"""One deadline for a request's database work (DB_REQUEST_TIMEOUT_MS), against a PostgreSQL server
the test freezes (SIGSTOP: connections are accepted by the kernel, never answered) and thaws.

Every route answers 503 problem+json within the budget plus one second, changes nothing half-way,
and works again once the server is thawed, with no restart. The app runs as in production
(APP_ENV=production, OIDC issuer, webhook secret, each integration's stand-in server),
with a budget of one second to keep the test short. The one-second margin is not a benchmark: it
is the contract ("within the budget plus 1 s"); before the budget, a frozen database took 6 to 12 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from app.main import create_app
from tests.support.asgi_client import concurrent_client
from tests.support.fake_openfga import FakeOpenFGA
from tests.support.keycloak_events import SECRET, admin_event, encode, sign
from tests.support.openfga import openfga_env
from tests.support.pg_cluster import PgCluster
from tests.support.problems import assert_problem, assert_unavailable
from tests.support.reliability import NO_HANG_SECONDS, STATS
from tests.support.tokens import TEST_ISSUER, TestKeys

BUDGET_MS = 1000
MARGIN_SECONDS = 1.0
# region: webhook
WEBHOOK = "/v1/authentication/webhook/events-synchronization"
# endregion


@pytest.fixture
def production_like() -> Iterator[dict[str, str]]:
    """The settings of a production deployment, with the stand-ins' addresses."""
    env = {
        "APP_ENV": "production",
        "OIDC_ISSUER": TEST_ISSUER,  # the key source is the tests' (container_for), no discovery
        # region: webhook
        "KEYCLOAK_WEBHOOK_SECRET": SECRET,
        # endregion
        "DB_POOL_MIN": "2",
        "DB_POOL_MAX": "20",
        "DB_REQUEST_TIMEOUT_MS": str(BUDGET_MS),
    }
    with contextlib.ExitStack() as stack:
        # region: openfga
        env |= openfga_env(
            stack.enter_context(FakeOpenFGA()),
            OUTBOX_POLL_SECONDS="0.2",
            OUTBOX_BACKOFF_BASE_SECONDS="0.1",
            OUTBOX_BACKOFF_MAX_SECONDS="0.5",
        )
        # endregion
        yield env


async def timed(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    async with asyncio.timeout(NO_HANG_SECONDS):
        response = await request
    return response, time.monotonic() - started


# region: webhook
def webhook(client: httpx.AsyncClient, user_id: uuid.UUID, time_ms: int) -> Awaitable[httpx.Response]:
    body = encode(admin_event("CREATE", user_id, time_ms, username=f"kc-{user_id.hex[:8]}"))
    headers = {"Content-Type": "application/json", "X-Keycloak-Signature": sign(body)}
    return client.post(WEBHOOK, content=body, headers=headers)


# endregion


def routes(
    client: httpx.AsyncClient, keys: TestKeys, post_id: str, kc_user: uuid.UUID
) -> dict[str, Callable[[], Awaitable[httpx.Response]]]:
    admin = keys.headers("root", ("admin",))
    named: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
        "users/me": lambda: client.get("/v1/users/me", headers=keys.headers("newcomer")),
        "service-context": lambda: client.patch("/v1/service-context", json={"maintenance": False}, headers=admin),
        # region: webhook
        "webhook": lambda: webhook(client, kc_user, 1),
        # endregion
        "health/ready": lambda: client.get("/health/ready"),
    }
    # region: blog
    owner = keys.headers("alice")
    named |= {
        "read": lambda: client.get(f"/v1/posts/{post_id}", headers=owner),
        "listing": lambda: client.get("/v1/posts", headers=owner),
        "create": lambda: client.post("/v1/posts", json={"content": "made while frozen"}, headers=owner),
        "patch": lambda: client.patch(f"/v1/posts/{post_id}", json={"content": "changed while frozen"}, headers=owner),
        "delete": lambda: client.delete(f"/v1/posts/{post_id}", headers=owner),
    }
    # endregion
    return named


# region: openfga
# region: blog
async def outbox_orphans(admin: asyncpg.Connection) -> set[str]:
    """Objects the outbox says exist (written, not deleted) that have no row, and posts with no
    owner tuple in the outbox: either would be half a change."""
    announced = {
        row["object"]
        for row in await admin.fetch(
            "SELECT object FROM relation_outbox WHERE object LIKE 'post:%' GROUP BY object "
            "HAVING bool_or(op = 'write') AND NOT bool_or(op = 'delete')"
        )
    }
    stored = {f"post:{row['id']}" for row in await admin.fetch("SELECT id FROM post")}
    return announced ^ stored


# endregion
# endregion


async def test_a_frozen_database_answers_503_within_the_budget_everywhere_and_recovers(
    pg_cluster: PgCluster, container_for: Any, keys: TestKeys, production_like: dict[str, str]
) -> None:
    url = await pg_cluster.create_database(f"deadline_{uuid.uuid4().hex[:10]}")
    admin = await asyncpg.connect(url, timeout=10)
    try:
        async with concurrent_client(create_app(container_for(url, **production_like))) as client:
            post_id = ""
            # region: blog
            created = await client.post("/v1/posts", json={"content": "original"}, headers=keys.headers("alice"))
            assert created.status_code == 201, created.text
            post_id = created.json()["id"]
            before = await admin.fetchval("SELECT count(*) FROM post")
            # endregion
            kc_user = uuid.uuid4()

            timings: dict[str, tuple[int, float]] = {}
            pg_cluster.freeze()
            try:
                for name, request in routes(client, keys, post_id, kc_user).items():
                    STATS["database faults tried"] += 1
                    response, elapsed = await timed(request())
                    timings[name] = (response.status_code, round(elapsed, 2))
                    if name == "health/ready":
                        assert_problem(response, 503)
                    else:
                        assert_unavailable(response)
            finally:
                pg_cluster.thaw()
            print("time to 503 with a frozen database:", timings)
            slow = {name: took for name, (_, took) in timings.items() if took > BUDGET_MS / 1000 + MARGIN_SECONDS}
            assert not slow, f"answered after more than the budget + {MARGIN_SECONDS}s: {slow}"

            # Thawed: everything works again, on the same process and pool.
            async with asyncio.timeout(NO_HANG_SECONDS):
                while (await client.get("/health/ready")).status_code != 200:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            ok = {"users/me": 200, "service-context": 200}
            # region: blog
            ok |= {"read": 200, "listing": 200, "create": 201, "patch": 200}
            # endregion
            # region: webhook
            ok["webhook"] = 204
            # endregion
            again = routes(client, keys, post_id, kc_user)
            for name, status in ok.items():
                response, _ = await timed(again[name]())
                assert response.status_code == status, (name, response.text)

            # Nothing of the frozen requests was half-written.
            assert await admin.fetchval("SELECT maintenance FROM service_context WHERE id = 1") is False
            # region: blog
            # The frozen create made no row, the patch and delete changed nothing (the patch just
            # above is the first change).
            assert await admin.fetchval("SELECT count(*) FROM post WHERE content = 'made while frozen'") == 1
            assert await admin.fetchval("SELECT count(*) FROM post") == before + 1
            assert await admin.fetchval("SELECT version FROM post WHERE id = $1", uuid.UUID(post_id)) == 2
            # endregion
            # region: webhook
            assert await admin.fetchval("SELECT count(*) FROM users WHERE id = $1", kc_user) == 1
            # endregion
            # region: blog
            # region: openfga
            assert await outbox_orphans(admin) == set()
            # endregion
            deleted, _ = await timed(again["delete"]())
            assert deleted.status_code == 204
            # region: openfga
            assert await outbox_orphans(admin) == set()
            # endregion
            # endregion
    finally:
        await admin.close()


async def test_a_row_lock_held_elsewhere_answers_503_within_the_budget_and_changes_nothing(
    pg_cluster: PgCluster, container_for: Any, keys: TestKeys, production_like: dict[str, str]
) -> None:
    url = await pg_cluster.create_database(f"deadline_{uuid.uuid4().hex[:10]}")
    admin = await asyncpg.connect(url, timeout=10)
    # The server's own statement timeout is far above the budget: the budget must be what cuts.
    container = container_for(url, **production_like, DB_STATEMENT_TIMEOUT_MS="30000")
    try:
        async with concurrent_client(create_app(container)) as client:
            root = keys.headers("root", ("admin",))
            context = "/v1/service-context"
            assert (await client.patch(context, json={"maintenance": False}, headers=root)).status_code == 200
            STATS["database faults tried"] += 1
            async with admin.transaction():  # another writer holds the row
                await admin.execute("SELECT 1 FROM service_context WHERE id = 1 FOR UPDATE")
                cut, elapsed = await timed(client.patch(context, json={"maintenance": True}, headers=root))
                assert_unavailable(cut)
                assert elapsed < BUDGET_MS / 1000 + MARGIN_SECONDS, elapsed
            assert await admin.fetchval("SELECT maintenance FROM service_context WHERE id = 1") is False
            after, _ = await timed(client.patch(context, json={"maintenance": True}, headers=root))
            assert (after.status_code, after.json()["maintenance"]) == (200, True)
    finally:
        await admin.close()
