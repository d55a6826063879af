"""The OpenFGA stand-in, driven by the real openfga-sdk async client.

Also pins down how the SDK behaves on failures, which the adapter has to rely on:

* 400 -> ``openfga_sdk.exceptions.ValidationException`` (``.code``/``.error_message`` parsed), never retried;
* 5xx (except 501) and 429 -> retried by the SDK itself, ``RetryParams(max_retry=3, min_wait_in_ms=100)``
  by default (exponential backoff with jitter), then ``ServiceException`` / ``RateLimitExceededError``;
* connection refused -> ``aiohttp.ClientConnectorError``, never retried;
* no answer -> builtin ``TimeoutError`` after ``ClientConfiguration(timeout_millisec=...)`` (default
  300 000 ms), a total timeout per HTTP attempt, never retried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import yaml
from openfga_sdk.client import ClientCheckRequest, ClientConfiguration, OpenFgaClient
from openfga_sdk.client.models import (
    ClientTuple,
    ClientWriteRequest,
    ClientWriteRequestOnDuplicateWrites,
    ClientWriteRequestOnMissingDeletes,
    ConflictOptions,
)
from openfga_sdk.configuration import RetryParams
from openfga_sdk.exceptions import ServiceException, ValidationException
from openfga_sdk.models.read_request_tuple_key import ReadRequestTupleKey

from tests.support.fake_openfga import (
    MODEL_ID,
    STORE_ID,
    ULID_PATTERN,
    FakeOpenFGA,
    TupleKey,
    new_ulid,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_TESTS_FILE = REPO_ROOT / "adapters" / "authz" / "model.fga.yaml"

ANNE_OWNS_POST: TupleKey = ("user:anne", "owner", "post:1")
# The SDK annotates options as dict[str, int | str | dict[str, int | str]], yet wants objects in them.
IGNORE_CONFLICTS: dict[str, Any] = {
    "conflict": ConflictOptions(
        on_duplicate_writes=ClientWriteRequestOnDuplicateWrites.IGNORE,
        on_missing_deletes=ClientWriteRequestOnMissingDeletes.IGNORE,
    )
}


@pytest.fixture
def fga() -> Iterator[FakeOpenFGA]:
    with FakeOpenFGA() as server:
        yield server


@asynccontextmanager
async def sdk_client(server: FakeOpenFGA, **config: Any) -> AsyncIterator[OpenFgaClient]:
    client = OpenFgaClient(
        ClientConfiguration(api_url=server.url, store_id=STORE_ID, authorization_model_id=MODEL_ID, **config)
    )
    try:
        yield client
    finally:
        await client.close()


def client_tuple(key: TupleKey) -> ClientTuple:
    user, relation, object_ = key
    return ClientTuple(user=user, relation=relation, object=object_)


async def allowed(client: OpenFgaClient, user: str, relation: str, object_: str, *context: TupleKey) -> bool:
    response = await client.check(
        ClientCheckRequest(
            user=user,
            relation=relation,
            object=object_,
            contextual_tuples=[client_tuple(key) for key in context] or None,
        )
    )
    return bool(response.allowed)


# -- the stand-in's model is the repository's model ----------------------------------------


@pytest.mark.asyncio
async def test_the_fake_agrees_with_every_check_of_the_model_tests(fga: FakeOpenFGA) -> None:
    """Replays the `fga model test` checks (run by the real engine elsewhere) against the fake."""
    spec = yaml.safe_load(MODEL_TESTS_FILE.read_text())
    compared = 0
    async with sdk_client(fga) as client:
        for case in spec["tests"]:
            fga.clear()
            fga.add_tuples(*((t["user"], t["relation"], t["object"]) for t in spec["tuples"] + case.get("tuples", [])))
            for check in case.get("check", []):
                for relation, expected in check["assertions"].items():
                    got = await allowed(client, check["user"], relation, check["object"])
                    assert got is expected, f"{case['name']}: {check['user']} {relation} {check['object']}"
                    compared += 1
    assert compared >= 30


# -- check / write / read ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_write_then_check(fga: FakeOpenFGA) -> None:
    async with sdk_client(fga) as client:
        assert not await allowed(client, "user:anne", "can_update", "post:1")

        await client.write_tuples([client_tuple(ANNE_OWNS_POST)])

        assert fga.tuples == {ANNE_OWNS_POST}
        assert await allowed(client, "user:anne", "can_update", "post:1")
        assert await allowed(client, "user:anne", "can_delete", "post:1")
        assert not await allowed(client, "user:anne", "can_update", "post:2")
    assert fga.write_count == 1
    assert fga.check_count == 4
    body = fga.requests_to(f"/stores/{STORE_ID}/write")[0].json()
    assert body["authorization_model_id"] == MODEL_ID


@pytest.mark.asyncio
async def test_strangers_and_editors(fga: FakeOpenFGA) -> None:
    fga.add_tuples(ANNE_OWNS_POST, ("user:bob", "editor", "post:1"), ("user:dave", "owner", "comment:1"))
    async with sdk_client(fga) as client:
        assert not await allowed(client, "user:carol", "can_update", "post:1")
        assert not await allowed(client, "user:carol", "can_delete", "post:1")
        assert await allowed(client, "user:bob", "can_update", "post:1")
        assert not await allowed(client, "user:bob", "can_delete", "post:1")
        assert not await allowed(client, "user:anne", "can_delete", "comment:1")
        assert await allowed(client, "user:dave", "can_delete", "comment:1")


@pytest.mark.asyncio
async def test_a_contextual_tuple_counts_for_that_check_only(fga: FakeOpenFGA) -> None:
    async with sdk_client(fga) as client:
        assert await allowed(client, "user:anne", "can_update", "post:1", ANNE_OWNS_POST)
        assert not await allowed(client, "user:anne", "can_update", "post:1")
    assert fga.tuples == set()
    sent = fga.requests_to(f"/stores/{STORE_ID}/check")[0].json()
    assert sent["contextual_tuples"] == {"tuple_keys": [{"user": "user:anne", "relation": "owner", "object": "post:1"}]}


@pytest.mark.asyncio
async def test_a_contextual_tuple_must_fit_the_model(fga: FakeOpenFGA) -> None:
    async with sdk_client(fga) as client:
        with pytest.raises(ValidationException) as raised:
            await allowed(client, "user:anne", "can_update", "post:1", ("user:anne", "can_update", "post:1"))
    assert raised.value.code == "invalid_tuple"
    assert raised.value.error_message == (
        "Invalid tuple 'post:1#can_update@user:anne'. "
        "Reason: type 'user' is not an allowed type restriction for 'post#can_update'"
    )


@pytest.mark.asyncio
async def test_checking_an_unknown_relation_is_a_validation_error(fga: FakeOpenFGA) -> None:
    async with sdk_client(fga) as client:
        with pytest.raises(ValidationException) as raised:
            await allowed(client, "user:anne", "can_read", "post:1")
    assert raised.value.status == 400
    assert raised.value.code == "validation_error"
    assert raised.value.error_message == "relation 'post#can_read' not found"


@pytest.mark.asyncio
async def test_duplicate_write_fails_unless_conflicts_are_ignored(fga: FakeOpenFGA) -> None:
    fga.add_tuples(ANNE_OWNS_POST)
    async with sdk_client(fga) as client:
        with pytest.raises(ValidationException) as raised:
            await client.write_tuples([client_tuple(ANNE_OWNS_POST)])
        assert raised.value.status == 400
        assert raised.value.code == "write_failed_due_to_invalid_input"
        assert raised.value.error_message.startswith(
            "cannot write a tuple which already exists: user: 'user:anne', relation: 'owner', object: 'post:1'"
        )
        sent = fga.requests_to(f"/stores/{STORE_ID}/write")[-1].json()
        assert sent["writes"]["on_duplicate"] == "error"

        # The whole request is one transaction: the new tuple next to the duplicate is not written.
        with pytest.raises(ValidationException):
            await client.write_tuples([client_tuple(("user:bob", "editor", "post:1")), client_tuple(ANNE_OWNS_POST)])
        assert fga.tuples == {ANNE_OWNS_POST}

        await client.write(
            ClientWriteRequest(writes=[client_tuple(ANNE_OWNS_POST), client_tuple(("user:bob", "editor", "post:1"))]),
            options=IGNORE_CONFLICTS,
        )
        sent = fga.requests_to(f"/stores/{STORE_ID}/write")[-1].json()
        assert sent["writes"]["on_duplicate"] == "ignore"
    assert fga.tuples == {ANNE_OWNS_POST, ("user:bob", "editor", "post:1")}


@pytest.mark.asyncio
async def test_delete(fga: FakeOpenFGA) -> None:
    fga.add_tuples(ANNE_OWNS_POST)
    async with sdk_client(fga) as client:
        await client.delete_tuples([client_tuple(ANNE_OWNS_POST)])
        assert fga.tuples == set()
        assert not await allowed(client, "user:anne", "can_delete", "post:1")

        with pytest.raises(ValidationException) as raised:
            await client.delete_tuples([client_tuple(ANNE_OWNS_POST)])
        assert raised.value.code == "write_failed_due_to_invalid_input"
        assert raised.value.error_message.startswith("cannot delete a tuple which does not exist: user: 'user:anne'")

        await client.write(ClientWriteRequest(deletes=[client_tuple(ANNE_OWNS_POST)]), options=IGNORE_CONFLICTS)
        sent = fga.requests_to(f"/stores/{STORE_ID}/write")[-1].json()
        assert sent["deletes"]["on_missing"] == "ignore"
    assert fga.tuples == set()


@pytest.mark.asyncio
async def test_read_paginates(fga: FakeOpenFGA) -> None:
    posts = [(f"user:u{i}", "owner", f"post:{i}") for i in range(5)]
    fga.add_tuples(*posts, ("user:u0", "owner", "comment:9"))
    async with sdk_client(fga) as client:
        seen: list[TupleKey] = []
        tokens: list[str] = []
        token = ""
        while True:
            options: dict[str, Any] = {"page_size": 2}
            if token:
                options["continuation_token"] = token
            page = await client.read(ReadRequestTupleKey(), options)
            seen.extend((t.key.user, t.key.relation, t.key.object) for t in page.tuples)
            token = page.continuation_token
            tokens.append(token)
            if not token:
                break
        assert seen == [*posts, ("user:u0", "owner", "comment:9")]
        assert len(tokens) == 3
        assert tokens[-1] == ""

        by_type = await client.read(ReadRequestTupleKey(object="comment:", user="user:u0"))
        assert [(t.key.user, t.key.relation, t.key.object) for t in by_type.tuples] == [
            ("user:u0", "owner", "comment:9")
        ]
        assert by_type.continuation_token == ""

        one = await client.read(ReadRequestTupleKey(object="post:3", relation="owner"))
        assert [t.key.user for t in one.tuples] == ["user:u3"]

        with pytest.raises(ValidationException) as raised:
            await client.read(ReadRequestTupleKey(object="post:"))
        assert raised.value.code == "validation_error"

        with pytest.raises(ValidationException) as bad_token:
            await client.read(ReadRequestTupleKey(), {"continuation_token": "not-a-token"})
        assert bad_token.value.code == "invalid_continuation_token"


# -- ids -----------------------------------------------------------------------------------


def test_store_and_model_ids_must_be_ulids(fga: FakeOpenFGA) -> None:
    check = {"tuple_key": {"user": "user:anne", "relation": "owner", "object": "post:1"}}
    with httpx.Client(base_url=fga.url) as http:
        bad_store = http.post("/stores/my-store/check", json=check)
        bad_model = http.post(f"/stores/{STORE_ID}/check", json={**check, "authorization_model_id": "model-1"})
        good = http.post(f"/stores/{STORE_ID}/check", json={**check, "authorization_model_id": MODEL_ID})

    assert bad_store.status_code == 400
    assert bad_store.json() == {
        "code": "validation_error",
        "message": f'invalid CheckRequest.StoreId: value does not match regex pattern "{ULID_PATTERN}"',
    }
    assert bad_model.status_code == 400
    assert bad_model.json()["code"] == "validation_error"
    assert good.json() == {"allowed": False, "resolution": ""}


def test_an_unknown_store(fga: FakeOpenFGA) -> None:
    other = new_ulid()
    check = {"tuple_key": {"user": "user:anne", "relation": "owner", "object": "post:1"}}
    with httpx.Client(base_url=fga.url) as http:
        get_store = http.get(f"/stores/{other}")
        with_model = http.post(f"/stores/{other}/check", json={**check, "authorization_model_id": MODEL_ID})
        without_model = http.post(f"/stores/{other}/check", json=check)
        assert http.get(f"/stores/{STORE_ID}").json()["id"] == STORE_ID

    assert get_store.status_code == 404
    assert get_store.json() == {"code": "store_id_not_found", "message": "Store ID not found"}
    # Like the real server, check resolves the model before the store.
    assert with_model.status_code == 400
    assert with_model.json() == {
        "code": "authorization_model_not_found",
        "message": f"Authorization Model '{MODEL_ID}' not found",
    }
    assert without_model.json()["code"] == "latest_authorization_model_not_found"


# -- faults --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_sdk_retries_a_500_by_default(fga: FakeOpenFGA) -> None:
    fga.add_tuples(ANNE_OWNS_POST)
    fga.fail_next(1, 500)
    async with sdk_client(fga) as client:
        assert await allowed(client, "user:anne", "can_update", "post:1")
    assert fga.check_count == 2


@pytest.mark.asyncio
async def test_the_sdk_gives_up_after_three_retries_by_default(fga: FakeOpenFGA) -> None:
    fga.fail_next(4, 500)
    async with sdk_client(fga) as client:
        with pytest.raises(ServiceException) as raised:
            await allowed(client, "user:anne", "can_update", "post:1")
    assert raised.value.status == 500
    assert raised.value.code == "internal_error"
    assert fga.check_count == 4


@pytest.mark.asyncio
async def test_a_500_raises_when_retries_are_off(fga: FakeOpenFGA) -> None:
    fga.fail_next(1, 500)
    async with sdk_client(fga, retry_params=RetryParams(max_retry=0)) as client:
        with pytest.raises(ServiceException) as raised:
            await client.write_tuples([client_tuple(ANNE_OWNS_POST)])
        assert raised.value.status == 500
        assert fga.write_count == 1
        assert fga.tuples == set()

        await client.write_tuples([client_tuple(ANNE_OWNS_POST)])
    assert fga.tuples == {ANNE_OWNS_POST}


@pytest.mark.asyncio
async def test_a_400_is_not_retried(fga: FakeOpenFGA) -> None:
    fga.fail_next(1, 400)
    async with sdk_client(fga) as client:
        with pytest.raises(ValidationException):
            await allowed(client, "user:anne", "can_update", "post:1")
    assert fga.check_count == 1


@pytest.mark.asyncio
async def test_connection_refused_raises_at_once(fga: FakeOpenFGA) -> None:
    fga.stop()
    async with sdk_client(fga) as client:
        started = time.monotonic()
        with pytest.raises(aiohttp.ClientConnectorError):
            await allowed(client, "user:anne", "can_update", "post:1")
        # Three default retries would sleep at least 0.1 + 0.2 + 0.4 s: refused connections are not retried.
        assert time.monotonic() - started < 0.5


@pytest.mark.asyncio
async def test_an_outage_reaches_a_pooled_client_and_it_recovers_on_restart(fga: FakeOpenFGA) -> None:
    fga.add_tuples(ANNE_OWNS_POST)
    async with sdk_client(fga) as client:
        assert await allowed(client, "user:anne", "can_update", "post:1")
        port = fga.port

        fga.stop()
        with pytest.raises(aiohttp.ClientError):
            await allowed(client, "user:anne", "can_update", "post:1")

        fga.start()
        assert fga.port == port
        assert await allowed(client, "user:anne", "can_update", "post:1")


@pytest.mark.asyncio
async def test_a_hung_server_times_out_after_timeout_millisec(fga: FakeOpenFGA) -> None:
    fga.delay_seconds = 1.0
    async with sdk_client(fga, timeout_millisec=300) as client:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await allowed(client, "user:anne", "can_update", "post:1")
        elapsed = time.monotonic() - started
    assert 0.25 < elapsed < 1.0
    # A retry would have arrived by now (0.3 s timeout + at most 0.2 s backoff): timeouts are not retried.
    await asyncio.sleep(0.6)
    assert len(fga.requests_to(f"/stores/{STORE_ID}/check")) == 1
    fga.delay_seconds = 0
