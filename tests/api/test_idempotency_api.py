"""`Idempotency-Key` on POST /v1/posts and /v1/comments, over HTTP, on both engines: a retry gets the
first answer byte for byte and creates nothing; another body is a 422; a repeat while the first still
runs a 409; keys are the caller's; they expire after 24 h, and survive a restart."""

from __future__ import annotations

import asyncio
import contextvars
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lagom import Container
from litestar.testing import AsyncTestClient

from adapters.db.idempotency import purge_expired
from app.main import create_app
from domain.idempotency import KEPT_FOR
from domain.ports import Clock, IdempotencyKeys, UnitOfWorkFactory
from tests.support.asgi_client import concurrent_client
from tests.support.problems import assert_problem
from tests.support.tokens import TestKeys

# These tests are about who wins, not about timeouts or admission (as tests/reliability/test_concurrency.py).
PATIENT = {"DB_ACQUIRE_TIMEOUT_MS": "30000", "DB_STATEMENT_TIMEOUT_MS": "30000", "ADMISSION_MAX_IN_FLIGHT": "0"}


def keyed(keys: TestKeys, key: str, user: str = "alice") -> dict[str, str]:
    return {**keys.headers(user), "Idempotency-Key": key}


def same_answer(first: Any, again: Any) -> None:
    assert again.status_code == first.status_code == 201
    assert again.content == first.content, "the body, byte for byte"
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["content-type"] == first.headers["content-type"]


async def total(client: Any, keys: TestKeys, path: str = "/v1/posts") -> int:
    return int((await client.get(path, headers=keys.headers())).json()["total"])


async def test_a_retry_gets_the_first_answer_and_creates_nothing(client, keys):
    first = await client.post("/v1/posts", json={"content": "hello"}, headers=keyed(keys, "k-1"))
    again = await client.post("/v1/posts", json={"content": "hello"}, headers=keyed(keys, "k-1"))

    same_answer(first, again)
    assert first.json()["content"] == "hello"
    assert await total(client, keys) == 1


async def test_the_same_key_with_another_body_is_422_and_creates_nothing(client, keys):
    await client.post("/v1/posts", json={"content": "hello"}, headers=keyed(keys, "k-1"))

    other = await client.post("/v1/posts", json={"content": "other"}, headers=keyed(keys, "k-1"))

    assert "k-1" in assert_problem(other, 422)["detail"]
    assert await total(client, keys) == 1


async def test_keys_are_the_callers_own(client, keys):
    alice = await client.post("/v1/posts", json={"content": "hello"}, headers=keyed(keys, "k-1", "alice"))
    bob = await client.post("/v1/posts", json={"content": "hello"}, headers=keyed(keys, "k-1", "bob"))

    assert alice.status_code == bob.status_code == 201
    assert alice.json()["id"] != bob.json()["id"]
    assert bob.json()["owner_id"] == str(keys.user_id("bob"))


@pytest.mark.parametrize(
    "key",
    [b"", b"x" * 256, "caf\u00e9".encode(), b"tab\there", b"nul\x7f"],
    ids=["empty", "256 characters", "not ASCII", "a control character", "DEL"],
)
async def test_a_malformed_key_is_400_and_creates_nothing(client, keys, key):
    headers = [*keys.headers().items(), ("Idempotency-Key", key)]
    response = await client.post("/v1/posts", json={"content": "hello"}, headers=headers)

    assert [e["field"] for e in assert_problem(response, 400)["errors"]] == ["Idempotency-Key"]
    assert await total(client, keys) == 0


async def test_the_longest_key_and_every_printable_character_are_accepted(client, keys):
    printable = "".join(map(chr, range(0x21, 0x7F)))
    for key in ("x" * 255, printable):
        response = await client.post("/v1/posts", json={"content": "hello"}, headers=keyed(keys, key))
        assert response.status_code == 201, response.text


async def test_comments_are_created_once_and_a_refused_create_keeps_no_key(client, keys):
    post = (await client.post("/v1/posts", json={"content": "post"}, headers=keys.headers())).json()
    missing = {"post_id": "00000000-0000-4000-8000-000000000000", "content": "hi"}
    assert_problem(await client.post("/v1/comments", json=missing, headers=keyed(keys, "c-1")), 404)

    body = {"post_id": post["id"], "content": "hi"}
    first = await client.post("/v1/comments", json=body, headers=keyed(keys, "c-1"))
    again = await client.post("/v1/comments", json=body, headers=keyed(keys, "c-1"))

    same_answer(first, again)
    assert await total(client, keys, "/v1/comments") == 1


async def test_a_key_used_on_posts_is_refused_on_comments(client, keys):
    post = (await client.post("/v1/posts", json={"content": "post"}, headers=keyed(keys, "k-1"))).json()

    comment = await client.post(
        "/v1/comments", json={"post_id": post["id"], "content": "x"}, headers=keyed(keys, "k-1")
    )

    assert_problem(comment, 422)


async def test_the_document_states_the_header_and_its_answers(client):
    document = (await client.get("/docs/openapi.json")).json()
    for path in ("/v1/posts", "/v1/comments"):
        operation = document["paths"][path]["post"]
        [header] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert header["in"] == "header"
        assert header["required"] is False
        assert header["schema"]["maxLength"] == 255
        assert {"409", "422"} <= set(operation["responses"])
        assert operation["responses"]["201"]["content"]["application/json"]["schema"], "what the 201 holds"


async def test_a_retry_after_a_restart_gets_the_same_post(engine, make_container, keys):
    async with AsyncTestClient(app=create_app(make_container())) as client:
        first = await client.post("/v1/posts", json={"content": "hello"}, headers=keyed(keys, "k-1"))
    async with AsyncTestClient(app=create_app(make_container())) as client:
        again = await client.post("/v1/posts", json={"content": "hello"}, headers=keyed(keys, "k-1"))
        same_answer(first, again)
        assert await total(client, keys) == 1


class MovableClock:
    def __init__(self) -> None:
        self.ahead = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.ahead


async def test_a_key_expires_after_24_hours_and_is_purged(engine, make_container, keys):
    clock = MovableClock()
    async with AsyncTestClient(app=create_app(make_container({Clock: clock}))) as client:
        first = await client.post("/v1/posts", json={"content": "hello"}, headers=keyed(keys, "k-1"))
        clock.ahead = KEPT_FOR - timedelta(minutes=1)
        same_answer(first, await client.post("/v1/posts", json={"content": "hello"}, headers=keyed(keys, "k-1")))

        clock.ahead = KEPT_FOR + timedelta(minutes=1)
        later = await client.post("/v1/posts", json={"content": "hello"}, headers=keyed(keys, "k-1"))
        assert later.status_code == 201
        assert later.json()["id"] != first.json()["id"], "an expired key is free again"
        assert await total(client, keys) == 2

    assert await purge_expired(engine, clock.now()) == 0, "the key was taken again: it expires a day later"
    assert await purge_expired(engine, clock.now() + KEPT_FOR + timedelta(minutes=1)) == 1


async def test_50_concurrent_posts_with_one_key_create_one_post(engine, make_container, keys):
    headers = keyed(keys, "k-50")
    async with concurrent_client(create_app(make_container(**PATIENT))) as live:
        responses = await asyncio.gather(
            *(live.post("/v1/posts", json={"content": "once"}, headers=headers) for _ in range(50))
        )
        statuses = Counter(r.status_code for r in responses)
        assert set(statuses) <= {201, 409}, statuses
        created = [r for r in responses if r.status_code == 201]
        for response in created:
            same_answer(created[0], response)
        for response in responses:
            if response.status_code == 409:
                assert_problem(response, 409)
        listing = (await live.get("/v1/posts", headers=keys.headers())).json()
        assert listing["total"] == 1
        assert listing["items"][0]["id"] == created[0].json()["id"]


async def test_a_repeat_while_the_first_still_runs_is_409(db_url, engine, make_container, keys):
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite runs one write transaction at a time: a repeat waits for the first, then replays it")
    container: Container = make_container(**PATIENT)
    async with concurrent_client(create_app(container)) as live:
        uow: Callable[[], Any] = container[UnitOfWorkFactory]
        async with uow():  # the first request, holding its key, has not committed yet
            now = datetime.now(UTC)
            taken = await container[IdempotencyKeys].take(keys.user_id("alice"), "k-1", b"?", now, now + KEPT_FOR)
            assert taken is None
            # The repeat runs in a context of its own, as a request from another connection would.
            repeat = asyncio.create_task(
                live.post("/v1/posts", json={"content": "hello"}, headers=keyed(keys, "k-1")),
                context=contextvars.Context(),
            )
            assert "still running" in assert_problem(await repeat, 409)["detail"]
        # The first rolled back (no commit): the key is free, and the repeat creates.
        after = await live.post("/v1/posts", json={"content": "hello"}, headers=keyed(keys, "k-1"))
        assert after.status_code == 201
