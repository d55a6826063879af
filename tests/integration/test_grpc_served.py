"""The gRPC server inside the real processes: `just serve` with two Granian workers and `just dev`.

Each worker runs the app's lifecycle, so each starts a gRPC server on the same GRPC_PORT (grpc binds
with SO_REUSEPORT); calls over fresh connections are answered; SIGTERM stops the servers with the
app and the port closes. Slow (each server takes seconds to start), like test_served.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from app.grpc.gen.blog.v1 import users_pb2, users_pb2_grpc
from tests.support import databases
from tests.support.servers import Server, free_port

pytestmark = pytest.mark.slow

EXIT_BOUND_S = 30


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[str]:
    if databases.server_url() is None and databases.postgres_required():
        pytest.fail("TEST_DATABASE_URL is required")
    async with databases.fresh_migrated(tmp_path, postgres=databases.server_url() is not None) as url:
        yield url


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.close()


def log_events(server: Server) -> list[dict]:
    return [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]


def count_event(server: Server, event: str) -> int:
    return sum(1 for e in log_events(server) if e.get("event") == event)


async def wait_for_log(server: Server, event: str, count: int, deadline_s: float = 30) -> None:
    give_up = time.monotonic() + deadline_s
    while count_event(server, event) < count:
        assert time.monotonic() < give_up, f"{count} × {event!r} not logged:\n{server.log()}"
        await asyncio.sleep(0.1)


async def whoami(port: int, server: Server) -> str:
    """One call over a connection of its own (a new channel: a new TCP connection)."""
    token = server.token("alice")["Authorization"]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = users_pb2_grpc.UserServiceStub(channel)
        answer = await stub.GetCurrentUser(
            users_pb2.GetCurrentUserRequest(), metadata=(("authorization", token),), timeout=10
        )
    return answer.user.username


async def assert_port_closed(port: int) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
    assert refused.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


async def test_every_serve_worker_serves_grpc_on_one_port_and_stops_with_the_app(database, tmp_path, servers):
    grpc_port = free_port()
    server = Server(tmp_path, database, WEB_CONCURRENCY="2", GRPC_PORT=str(grpc_port), GRPC_HOST="127.0.0.1")
    servers.append(server.start())
    await asyncio.to_thread(server.wait_ready)
    await wait_for_log(server, f"gRPC server on 127.0.0.1:{grpc_port}", 2)  # one per worker, one port

    names = await asyncio.gather(*(whoami(grpc_port, server) for _ in range(8)))
    assert names == ["alice"] * 8
    assert count_event(server, "rpc") == 8, "one access line per call"

    server.terminate()
    assert server.process is not None
    await asyncio.to_thread(server.process.wait, EXIT_BOUND_S)
    assert count_event(server, "gRPC server stopped") == 2, server.log()
    assert "database pool closed" in [e["event"] for e in log_events(server)]
    await assert_port_closed(grpc_port)


async def test_just_dev_serves_grpc_on_the_loopback_and_stops_with_the_app(tmp_path, servers):
    grpc_port = free_port()
    database = f"sqlite:///{tmp_path}/dev.sqlite3"
    server = Server(tmp_path, database, recipe="dev", GRPC_PORT=str(grpc_port))  # `just dev` binds the loopback
    servers.append(server.start())
    await asyncio.to_thread(server.wait_ready)
    await wait_for_log(server, f"gRPC server on 127.0.0.1:{grpc_port}", 1)

    assert await whoami(grpc_port, server) == "alice"

    server.terminate()
    assert server.process is not None
    await asyncio.to_thread(server.process.wait, EXIT_BOUND_S)
    await assert_port_closed(grpc_port)
