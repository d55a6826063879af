"""The production server as a process (`just serve`, Granian): what only real processes show.

- Two instances on one database: a maintenance switch on one reaches the other within
  MAINTENANCE_CACHE_SECONDS (polled with a deadline; no timing is asserted).
- Graceful shutdown: SIGTERM while writes are in flight; every write answered 2xx is in the
  database, the pool is closed, the process exits within a bound. The server's output, Granian's
  own lines included, is JSON lines with one access line per request.
- Overload: with every slot of the worker held, requests are shed with 503 and Retry-After (health
  still answers), and the first requests after the load are served normally.

Each server takes seconds to start (imports, a spawned worker), hence ``slow``. Both run on a
throwaway PostgreSQL database when TEST_DATABASE_URL is set (the realistic multi-instance set-up),
on a SQLite file otherwise.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from adapters.db.engine import make_engine
from adapters.db.lifecycle import close_database, open_database
from tests.support.servers import Server

pytestmark = pytest.mark.slow


async def eventually_status(client: httpx.AsyncClient, url: str, headers: dict[str, str], expected: int) -> None:
    give_up = time.monotonic() + 15
    while (status := (await client.get(url, headers=headers)).status_code) != expected:
        assert time.monotonic() < give_up, f"{url} still answers {status}, expected {expected}"
        await asyncio.sleep(0.05)


async def test_maintenance_reaches_every_instance_within_the_cache_bound(
    database: str, tmp_path: Path, servers: list[Server]
) -> None:
    first, second = (Server(tmp_path, database, MAINTENANCE_CACHE_SECONDS="0.3").start() for _ in range(2))
    servers += [first, second]
    await asyncio.gather(asyncio.to_thread(first.wait_ready), asyncio.to_thread(second.wait_ready))
    user, admin = first.token("alice"), first.token("root", "admin")
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(f"{second.url}/v1/users/me", headers=user)).status_code == 200

        switched = await client.patch(f"{first.url}/v1/service-context", json={"maintenance": True}, headers=admin)
        assert switched.status_code == 200, switched.text
        assert (await client.get(f"{first.url}/v1/users/me", headers=user)).status_code == 503
        await eventually_status(client, f"{second.url}/v1/users/me", user, 503)

        switched = await client.patch(f"{second.url}/v1/service-context", json={"maintenance": False}, headers=admin)
        assert switched.status_code == 200, switched.text
        await eventually_status(client, f"{first.url}/v1/users/me", user, 200)


CHUNKS = 6
CHUNK_DELAY_S = 0.25
WRITES = 5
EXIT_BOUND_S = 30


async def slow_body(head: bytes, tail: bytes, started: asyncio.Event, release: asyncio.Event) -> AsyncIterator[bytes]:
    """A JSON body sent in pieces, like a slow client: the request is in flight while it trickles in
    (spaces, between ``head`` and ``tail``)."""
    yield head
    started.set()
    await release.wait()
    for _ in range(CHUNKS):
        await asyncio.sleep(CHUNK_DELAY_S)
        yield b" " * 100
    yield tail


# region: blog
async def test_sigterm_finishes_in_flight_writes_closes_the_pool_and_exits(
    database: str, tmp_path: Path, servers: list[Server]
) -> None:
    server = Server(tmp_path, database).start()
    servers.append(server)
    await asyncio.to_thread(server.wait_ready)
    granian = server.granian_pid
    headers = {**server.token("alice"), "content-type": "application/json"}
    release = asyncio.Event()
    started = [asyncio.Event() for _ in range(WRITES)]

    async with httpx.AsyncClient(timeout=30) as client:
        writes = [
            asyncio.create_task(
                client.post(
                    f"{server.url}/v1/posts",
                    content=slow_body(b'{"content": "write %d ' % i, b'"}', started[i], release),
                    headers=headers,
                )
            )
            for i in range(WRITES)
        ]
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in started)), 10)
        await asyncio.sleep(0.3)  # the headers and first bytes have reached the server
        server.terminate()
        terminated_at = time.monotonic()
        release.set()
        results = await asyncio.gather(*writes, return_exceptions=True)

    assert server.process is not None
    await asyncio.to_thread(server.process.wait, EXIT_BOUND_S)
    exited_after = time.monotonic() - terminated_at
    log = server.log()

    accepted = [r.json()["id"] for r in results if isinstance(r, httpx.Response) and r.is_success]
    assert len(accepted) == WRITES, f"in-flight writes were cut: {results}\n{log}"
    assert exited_after < EXIT_BOUND_S
    assert not _pid_alive(granian)
    events = [json.loads(line) for line in log.splitlines()]  # Granian's own lines too: all JSON
    assert "database pool closed" in [e["event"] for e in events], log
    writes_logged = [e for e in events if e["event"] == "request" and e["path"] == "/v1/posts"]
    assert [e["status"] for e in writes_logged] == [201] * WRITES, "one access line per write"

    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{server.url}/health/live")
    stored = await _post_ids(database)
    assert set(accepted) <= stored, "a write answered 201 is missing from the database"


def _pid_alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


async def _post_ids(url: str) -> set[str]:
    engine = make_engine(url)
    await open_database(engine, pool_min=1, pool_max=1, statement_timeout_ms=5000, acquire_timeout_ms=2000)
    try:
        rows = await engine.run_querystring(_select_post_ids())
    finally:
        await close_database(engine)
    return {str(row["id"]) for row in rows}


def _select_post_ids():  # type: ignore[no-untyped-def]
    from piccolo.querystring import QueryString

    return QueryString('SELECT id FROM "post"')


# endregion


async def test_past_capacity_requests_are_shed_with_retry_after_and_served_right_after(
    database: str, tmp_path: Path, servers: list[Server]
) -> None:
    server = Server(tmp_path, database, ADMISSION_MAX_IN_FLIGHT="2", ADMISSION_MAX_WAIT_MS="50").start()
    servers.append(server)
    await asyncio.to_thread(server.wait_ready)
    headers = server.token("alice")
    admin = {**server.token("root", "admin"), "content-type": "application/json"}
    me, switch = f"{server.url}/v1/users/me", f"{server.url}/v1/service-context"
    release = asyncio.Event()
    started = [asyncio.Event() for _ in range(2)]

    async with httpx.AsyncClient(timeout=30) as client:
        # Two writes whose bodies trickle in hold both slots until released.
        writes = [
            asyncio.create_task(
                client.patch(
                    switch, content=slow_body(b'{"maintenance": ', b"false}", started[i], release), headers=admin
                )
            )
            for i in range(2)
        ]
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in started)), 10)
        await eventually_status(client, me, headers, 503)

        flood = await asyncio.gather(*(client.get(me, headers=headers) for _ in range(20)))
        assert {r.status_code for r in flood} == {503}
        assert {r.headers["retry-after"] for r in flood} == {"1"}
        assert {r.headers["content-type"] for r in flood} == {"application/problem+json"}
        assert (await client.get(f"{server.url}/health/live")).status_code == 200

        release.set()
        assert [r.status_code for r in await asyncio.gather(*writes)] == [200, 200]
        right_after = [(await client.get(me, headers=headers)).status_code for _ in range(5)]
        assert right_after == [200] * 5, server.log()
