"""The gRPC server inside the real processes: `just serve` with two Granian workers and `just dev`.

Each worker runs the app's lifecycle, so each starts a gRPC server on the same GRPC_PORT (grpc binds
with SO_REUSEPORT); calls over fresh connections are answered; SIGTERM stops the servers with the
app and the port closes. Slow (each server takes seconds to start), like test_served.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from app.grpc.gen.blog.v1 import users_pb2, users_pb2_grpc
from tests.support.servers import Server, free_port

pytestmark = pytest.mark.slow

EXIT_BOUND_S = 30


def log_events(server: Server) -> list[dict]:
    return [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]


def count_event(server: Server, event: str) -> int:
    return sum(1 for e in log_events(server) if e.get("event") == event)


async def wait_for_log(server: Server, event: str, count: int, deadline_s: float = 30) -> None:
    give_up = time.monotonic() + deadline_s
    while count_event(server, event) < count:
        assert time.monotonic() < give_up, f"{count} × {event!r} not logged:\n{server.log()}"
        await asyncio.sleep(0.1)


# grpc shares one connection between the channels of a process unless told otherwise.
OWN_CONNECTION = (("grpc.use_local_subchannel_pool", 1),)


async def whoami(channel: grpc.aio.Channel, server: Server) -> str:
    token = server.token("alice")["Authorization"]
    stub = users_pb2_grpc.UserServiceStub(channel)
    answer = await stub.GetCurrentUser(
        users_pb2.GetCurrentUserRequest(), metadata=(("authorization", token),), timeout=10
    )
    return answer.user.username


def connections_per_process(port: int, pids: list[int]) -> dict[int, int]:
    """How many established TCP connections to local ``port`` each of ``pids`` holds (from /proc)."""
    inodes: dict[str, int] = {}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes[target[8:-1]] = pid
    counts: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port, state, inode = int(fields[1].rsplit(":", 1)[1], 16), fields[3], fields[9]
            if local_port == port and state == "01" and inode in inodes:  # 01: ESTABLISHED
                counts[inodes[inode]] = counts.get(inodes[inode], 0) + 1
    return counts


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

    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}", options=OWN_CONNECTION) for _ in range(16)]
    try:
        assert await asyncio.gather(*(whoami(channel, server) for channel in channels)) == ["alice"] * 16
        spread = connections_per_process(grpc_port, server.worker_pids())
    finally:
        await asyncio.gather(*(channel.close() for channel in channels))
    assert sum(spread.values()) == 16
    assert len(spread) == 2, f"the kernel gave every connection to one worker: {spread}"  # p = 2⁻¹⁵
    assert count_event(server, "rpc") == 16, "one access line per call"

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

    async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        assert await whoami(channel, server) == "alice"

    server.terminate()
    assert server.process is not None
    await asyncio.to_thread(server.process.wait, EXIT_BOUND_S)
    await assert_port_closed(grpc_port)
