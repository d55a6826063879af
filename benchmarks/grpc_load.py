"""A unary gRPC load generator for `just bench`: GetPost on random seeded posts, for a fixed time.

ghz (the usual tool) is not installable here, so this is a small grpcio client, run by
benchmarks/bench.py as a process of its own (like wrk) so that its CPU is not the server's:

    python -m benchmarks.grpc_load --target 127.0.0.1:50051 --token T --concurrency 32 --seconds 10

``--concurrency`` calls are in flight at all times, spread over ``--channels`` HTTP/2 connections
(each channel has its own connection: grpc would otherwise share one between them). Each call is
``PostService.GetPost`` for a random one of the seeded posts (benchmarks/seed.py's ids, as the wrk
scripts draw them) with the bench user's bearer token and a 5 s deadline. Latency is the client's
time per call. It prints one ``BENCH_RESULT {json}`` line in the shape of the wrk scripts' (calls
that failed count as ``non2xx``, their status codes in ``statuses``) plus ``client_cpu``: the share
of one core this process used. Near 1.0, the client and not the server set the rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter

import grpc
import uvloop

from app.grpc.gen.blog.v1 import posts_pb2, posts_pb2_grpc
from benchmarks.seed import POSTS, post_id

OWN_CONNECTION = (("grpc.use_local_subchannel_pool", 1),)


async def load(target: str, token: str, concurrency: int, channels: int, seconds: float, posts: int) -> dict:
    opened = [grpc.aio.insecure_channel(target, options=OWN_CONNECTION) for _ in range(channels)]
    stubs = [posts_pb2_grpc.PostServiceStub(channel) for channel in opened]
    metadata = (("authorization", f"Bearer {token}"),)
    requests = [posts_pb2.GetPostRequest(post_id=str(post_id(i))) for i in range(1, posts + 1)]
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    end = time.perf_counter() + seconds

    async def caller(index: int) -> None:
        get_post, draw = stubs[index % channels].GetPost, random.Random(index).choice  # noqa: S311
        while (started := time.perf_counter()) < end:
            try:
                await get_post(draw(requests), metadata=metadata, timeout=5)
            except grpc.aio.AioRpcError as error:
                failures[error.code().name] += 1
            else:
                latencies.append(time.perf_counter() - started)

    try:
        await asyncio.gather(*(channel.channel_ready() for channel in opened))
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(caller(i) for i in range(concurrency)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await asyncio.gather(*(channel.close() for channel in opened))
    latencies.sort()

    def percentile(p: float) -> int:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1e6) if latencies else 0

    return {
        "requests": len(latencies) + sum(failures.values()),
        "duration_us": round(wall * 1e6),
        "p50_us": percentile(50),
        "p99_us": percentile(99),
        "non2xx": sum(failures.values()),
        "connect": 0,
        "read": 0,
        "write": 0,
        "timeout": 0,
        "statuses": " ".join(code for code, n in failures.most_common() for _ in range(min(n, 20))),
        "client_cpu": round(cpu / wall, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.grpc_load", description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="host:port of the gRPC server")
    parser.add_argument("--token", required=True, help="a bearer token the server accepts")
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight (default 32)")
    parser.add_argument("--channels", type=int, default=4, help="HTTP/2 connections (default 4)")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--posts", type=int, default=POSTS, help="seeded posts to draw from")
    args = parser.parse_args(argv)
    result = uvloop.run(load(args.target, args.token, args.concurrency, args.channels, args.seconds, args.posts))
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
