"""Requests truly in flight together (on the test's loop, see tests/support/asgi_client.py), on both engines."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from lagom import Container

from app.main import create_app
from tests.support.asgi_client import concurrent_client
from tests.support.tokens import TestKeys

# Generous: these tests are about who wins, not about timeouts (a loaded CI machine must not 503),
# nor about admission control (200 creates at once are more than one worker's slots).
PATIENT = {"DB_ACQUIRE_TIMEOUT_MS": "30000", "DB_STATEMENT_TIMEOUT_MS": "30000", "ADMISSION_MAX_IN_FLIGHT": "0"}


@pytest.fixture
def serve(engine: Any, make_container: Callable[..., Container]) -> Callable[[], Any]:
    # A context manager for the test body: the app's lifespan must start and stop in one task.
    return lambda: concurrent_client(create_app(make_container(**PATIENT)))


async def test_30_concurrent_patches_with_the_same_if_match_exactly_one_wins(serve: Any, keys: TestKeys) -> None:
    async with serve() as live:
        await _30_patches(live, keys)


async def _30_patches(live: httpx.AsyncClient, keys: TestKeys) -> None:
    headers = keys.headers("alice")
    post = (await live.post("/v1/posts", json={"content": "v1"}, headers=headers)).json()
    url = f"/v1/posts/{post['id']}"
    responses = await asyncio.gather(
        *(live.patch(url, json={"content": f"writer {i}"}, headers={**headers, "If-Match": '"1"'}) for i in range(30))
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 412: 29}, statuses
    winner = next(r.json() for r in responses if r.status_code == 200)
    final = (await live.get(url, headers=headers)).json()
    assert final["version"] == 2
    assert final["content"] == winner["content"]


async def test_200_concurrent_creates_give_200_distinct_rows_and_exact_totals(serve: Any, keys: TestKeys) -> None:
    async with serve() as live:
        await _200_creates(live, keys)


async def _200_creates(live: httpx.AsyncClient, keys: TestKeys) -> None:
    users = [f"writer{n}" for n in range(10)]
    tokens = {user: keys.headers(user) for user in users}

    async def create(i: int) -> httpx.Response:
        user = users[i % len(users)]
        return await live.post("/v1/posts", json={"content": f"post {i}"}, headers=tokens[user])

    responses = await asyncio.gather(*(create(i) for i in range(200)))
    assert Counter(r.status_code for r in responses) == {201: 200}
    created = {r.json()["id"]: r.json()["content"] for r in responses}
    assert len(created) == 200

    listed: dict[str, str] = {}
    for offset in range(0, 200, 100):
        page = (await live.get("/v1/posts", params={"limit": 100, "offset": offset}, headers=tokens[users[0]])).json()
        assert page["total"] == 200
        listed.update({item["id"]: item["content"] for item in page["items"]})
    assert listed == created
    for user in users:
        mine = (await live.get("/v1/posts", params={"owner_id": str(keys.user_id(user))}, headers=tokens[user])).json()
        assert mine["total"] == 20
