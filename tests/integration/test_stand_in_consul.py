"""The Consul stand-in behaves like Consul's KV API, as seen by py-consul's asyncio client (the one
the config watcher uses)."""

from __future__ import annotations

import asyncio
import base64
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import aiohttp
import consul
import consul.aio
import httpx
import pytest

from tests.support.fake_consul import FakeConsul, parse_go_duration


@pytest.fixture
def kv() -> Iterator[FakeConsul]:
    with FakeConsul(required_token="s3cret") as server:
        server.put("app/LOG_LEVEL", "DEBUG")
        server.put("app/OIDC_AUDIENCE", "api")
        server.put("other/KEY", "elsewhere")
        yield server


def consul_client(server: FakeConsul, token: str | None = "s3cret", **kwargs: Any) -> consul.aio.Consul:
    # py-consul 1.8 builds its aiohttp connector with arguments aiohttp deprecates
    # (ssl_context, or verify_ssl when verify=False); nothing to fix on our side.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "(ssl_context|verify_ssl) is deprecated", DeprecationWarning)
        return consul.aio.Consul(host="127.0.0.1", port=server.port, scheme="http", token=token, **kwargs)


# -- Consul KV --------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_recurse_get_returns_the_prefix_and_an_index(kv: FakeConsul) -> None:
    async with consul_client(kv) as client:
        index, entries = await client.kv.get("app/", recurse=True)
        missing_index, missing = await client.kv.get("nothing/", recurse=True)
        one_index, one = await client.kv.get("app/LOG_LEVEL")

    assert [(e["Key"], e["Value"]) for e in entries] == [("app/LOG_LEVEL", b"DEBUG"), ("app/OIDC_AUDIENCE", b"api")]
    assert int(index) == max(e["ModifyIndex"] for e in entries) < kv.index
    assert (int(missing_index), missing) == (kv.index, None)
    assert one["Value"] == b"DEBUG"
    assert int(one_index) == one["ModifyIndex"]


def test_raw_http_shape(kv: FakeConsul) -> None:
    with httpx.Client(base_url=kv.url, headers={"X-Consul-Token": "s3cret"}) as client:
        found = client.get("/v1/kv/app/", params={"recurse": ""})
        missing = client.get("/v1/kv/nothing", params={"recurse": ""})
        keys = client.get("/v1/kv/", params={"keys": "", "separator": "/"})
        raw = client.get("/v1/kv/app/LOG_LEVEL", params={"raw": ""})
        by_query_token = httpx.get(f"{kv.url}/v1/kv/app/LOG_LEVEL", params={"token": "s3cret"})

    assert found.status_code == 200
    assert found.headers["content-type"] == "application/json"
    assert found.json()[0] == {
        "LockIndex": 0,
        "Key": "app/LOG_LEVEL",
        "Flags": 0,
        "Value": base64.b64encode(b"DEBUG").decode(),
        "CreateIndex": 2,
        "ModifyIndex": 2,
    }
    for response in (found, missing):
        assert {"x-consul-index", "x-consul-knownleader", "x-consul-lastcontact"} <= response.headers.keys()
    assert (missing.status_code, missing.content) == (404, b"")
    assert keys.json() == ["app/", "other/"]
    assert raw.content == b"DEBUG"
    assert by_query_token.status_code == 200


@pytest.mark.asyncio
async def test_blocking_get_returns_after_a_change(kv: FakeConsul) -> None:
    async with consul_client(kv) as client:
        index, _ = await client.kv.get("app/", recurse=True)
        timer = threading.Timer(0.3, kv.put, ("app/LOG_LEVEL", "INFO"))
        timer.start()
        try:
            new_index, entries = await client.kv.get("app/", recurse=True, index=index, wait="30s")
        finally:
            timer.join()

    assert int(new_index) > int(index)
    assert {e["Key"]: e["Value"] for e in entries}["app/LOG_LEVEL"] == b"INFO"
    entry = kv.entry("app/LOG_LEVEL")
    assert entry is not None
    assert entry.create_index < entry.modify_index == int(new_index)


@pytest.mark.asyncio
async def test_blocking_get_wakes_on_a_delete(kv: FakeConsul) -> None:
    async with consul_client(kv) as client:
        index, _ = await client.kv.get("app/", recurse=True)
        waiter = asyncio.create_task(client.kv.get("app/", recurse=True, index=index, wait="30s"))
        await asyncio.to_thread(kv.wait_for_blocked_queries)
        kv.delete("app/OIDC_AUDIENCE")
        new_index, entries = await waiter

    assert int(new_index) > int(index)
    assert [e["Key"] for e in entries] == ["app/LOG_LEVEL"]


@pytest.mark.asyncio
async def test_blocking_get_times_out_with_the_same_index(kv: FakeConsul) -> None:
    async with consul_client(kv) as client:
        index, entries = await client.kv.get("app/", recurse=True)
        kv.put("other/KEY", "changed")  # another prefix: must not wake the query
        same_index, same_entries = await client.kv.get("app/", recurse=True, index=index, wait="1s")
        short_index, _ = await client.kv.get("app/", recurse=True, index=index, wait="100ms")

    assert same_index == short_index == index
    assert same_entries == entries


def test_go_durations() -> None:
    assert parse_go_duration("30s") == 30
    assert parse_go_duration("5s") == 5
    assert parse_go_duration("100ms") == pytest.approx(0.1)
    assert parse_go_duration("1m30s") == 90
    assert parse_go_duration("1.5h") == 5400
    for bad in ("", "30", "s", "10 s", "1x"):
        with pytest.raises(ValueError, match="invalid duration"):
            parse_go_duration(bad)


def test_bad_wait_or_index_is_a_400(kv: FakeConsul) -> None:
    headers = {"X-Consul-Token": "s3cret"}
    bad_wait = httpx.get(f"{kv.url}/v1/kv/app/", params={"index": "1", "wait": "30"}, headers=headers)
    bad_index = httpx.get(f"{kv.url}/v1/kv/app/", params={"index": "x"}, headers=headers)
    assert (bad_wait.status_code, bad_wait.text) == (400, "Invalid wait time")
    assert (bad_index.status_code, bad_index.text) == (400, "Invalid index")


@pytest.mark.asyncio
async def test_put_and_delete_through_py_consul(kv: FakeConsul) -> None:
    async with consul_client(kv) as client:
        assert await client.kv.put("app/NEW", "value", flags=7) is True
        created = kv.entry("app/NEW")
        assert await client.kv.put("app/NEW", "value") is True  # same value still a write
        assert await client.kv.put("app/NEW", "lost", cas=created.modify_index if created else 0) is False
        _, entry = await client.kv.get("app/NEW")
        assert await client.kv.delete("app/NEW") is True
        assert await client.kv.delete("app/", recurse=True) is True

    assert created is not None
    assert created.flags == 7
    assert entry["Value"] == b"value"
    assert entry["ModifyIndex"] > entry["CreateIndex"] == created.create_index
    assert kv.snapshot() == {"other/KEY": "elsewhere"}


@pytest.mark.asyncio
async def test_index_moves_on_every_change(kv: FakeConsul) -> None:
    start = kv.index
    kv.put("a", "1")
    kv.put("a", "1")
    kv.delete("a")
    kv.delete("a")  # nothing to delete: no change
    assert kv.index == start + 3


@pytest.mark.asyncio
async def test_unknown_token_raises_acl_permission_denied(kv: FakeConsul) -> None:
    async with consul_client(kv, token="wrong") as client:
        with pytest.raises(consul.ACLPermissionDenied, match="ACL not found"):
            await client.kv.get("app/", recurse=True)
        with pytest.raises(consul.ACLPermissionDenied):
            await client.kv.put("app/X", "1")


@pytest.mark.asyncio
async def test_anonymous_listing_is_filtered_and_single_reads_are_denied(kv: FakeConsul) -> None:
    async with consul_client(kv, token=None) as client:
        index, entries = await client.kv.get("app/", recurse=True)
        with pytest.raises(consul.ACLPermissionDenied, match="Permission denied: anonymous token"):
            await client.kv.get("app/LOG_LEVEL")
    assert entries is None
    assert int(index) > 0


@pytest.mark.asyncio
async def test_stopped_server_raises_aiohttp_connection_errors(kv: FakeConsul) -> None:
    async with consul_client(kv) as client:
        index, _ = await client.kv.get("app/", recurse=True)
        in_flight = asyncio.create_task(client.kv.get("app/", recurse=True, index=index, wait="30s"))
        await asyncio.to_thread(kv.wait_for_blocked_queries)
        kv.stop()
        # A held query is cut (aiohttp retries it once on a new connection, which is refused).
        with pytest.raises(aiohttp.ClientConnectionError):
            await in_flight
        with pytest.raises(aiohttp.ClientConnectorError):
            await client.kv.get("app/", recurse=True)

        kv.start()  # same port, same data, same index
        restarted_index, entries = await client.kv.get("app/", recurse=True)
    assert restarted_index == index
    assert len(entries) == 2


@pytest.mark.asyncio
async def test_connections_timeout_bounds_a_request(kv: FakeConsul) -> None:
    kv.delay_seconds = 1.0
    try:
        async with consul_client(kv) as client:
            with pytest.raises(TimeoutError):
                await client.kv.get("app/", recurse=True, connections_timeout=0.2)
    finally:
        kv.delay_seconds = 0.0


@pytest.mark.asyncio
async def test_client_wide_timeout_also_cuts_blocking_queries(kv: FakeConsul) -> None:
    # connections_timeout on the client is aiohttp's *total* timeout for every request, so it
    # must be longer than the blocking wait (plus Consul's wait/16 jitter).
    async with consul_client(kv, connections_timeout=0.3) as client:
        index, _ = await client.kv.get("app/", recurse=True)
        with pytest.raises(TimeoutError):
            await client.kv.get("app/", recurse=True, index=index, wait="2s")
