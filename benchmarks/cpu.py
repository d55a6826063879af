"""CPU time per request, in process: `uv run python -m benchmarks.cpu [--scenario get_post] [--profile]`.

No HTTP server and no load generator: the ASGI app (the service's, or the ceiling's) is called
directly, 32 requests at a time, against a small seeded PostgreSQL database of its own; the
process's CPU time is divided by the requests. It tells how much Python work a request costs,
which the wrk numbers on a shared 2-core machine blur with PostgreSQL's and wrk's own CPU.
--profile prints cProfile's top functions by own CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import seed
from benchmarks.bench import DEFAULT_SERVER
from tests.support import databases

POSTS = 2000


def _request(scenario: str) -> tuple[str, str, bytes]:
    post = seed.post_id(random.randint(1, POSTS))  # noqa: S311 - picking rows, not secrets
    body = json.dumps({"content": f"cpu {random.random()}"}).encode()  # noqa: S311
    return {
        "get_post": ("GET", f"/v1/posts/{post}", b""),
        "list_posts": ("GET", "/v1/posts?limit=20", b""),
        "list_comments": ("GET", f"/v1/comments?post_id={post}", b""),
        "create_post": ("POST", "/v1/posts", body),
        "update_post": ("PATCH", f"/v1/posts/{post}", body),
    }[scenario]


class Lifespan:
    """Drives an ASGI app's lifespan: one long call, startup first, shutdown at the end."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def _step(self, message: str) -> None:
        await self.inbox.put({"type": f"lifespan.{message}"})
        answer = await self.outbox.get()
        if answer["type"] != f"lifespan.{message}.complete":
            raise RuntimeError(f"lifespan {message}: {answer}")

    async def start(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.create_task(self.app(scope, self.inbox.get, self.outbox.put))
        await self._step("startup")

    async def stop(self) -> None:
        await self._step("shutdown")
        assert self.task is not None
        await self.task


async def measure(target: str, scenario: str, requests: int, concurrency: int, profile: bool) -> float:
    """Seconds of CPU per request."""
    url = await seed.create_database(os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER))
    try:
        await databases.migrate_database(url)
        await seed.seed(url, posts=POSTS)
        var_dir = Path(tempfile.mkdtemp(prefix="blog-cpu-"))
        os.environ.update(DATABASE_URL=url, VAR_DIR=str(var_dir), DB_AUTO_MIGRATE="false")
        os.environ.setdefault("LOG_LEVEL", "WARNING")  # LOG_LEVEL=INFO LOG_FORMAT=json: with access lines
        from adapters.auth.keys import DevKeys
        from adapters.auth.minting import mint_dev_token

        token = mint_dev_token(DevKeys(var_dir), seed.BENCH_USER, [])
        if target == "service":
            from app.main import create_app

            app: Any = create_app()
        else:
            from benchmarks.ceiling import Ceiling

            app = Ceiling()
        lifespan = Lifespan(app)
        await lifespan.start()
        statuses: dict[int, int] = {}

        async def one() -> None:
            method, target_path, body = _request(scenario)
            path, _, query = target_path.partition("?")
            headers = [(b"host", b"cpu"), (b"authorization", f"Bearer {token}".encode())]
            if body:
                headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": method,
                "scheme": "http",
                "path": path,
                "raw_path": path.encode(),
                "query_string": query.encode(),
                "root_path": "",
                "headers": headers,
                "client": ("127.0.0.1", 1),
                "server": ("127.0.0.1", 80),
                "state": {},
            }

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    statuses[message["status"]] = statuses.get(message["status"], 0) + 1

            await app(scope, receive, send)

        async def client(count: int) -> None:
            for _ in range(count):
                await one()

        await asyncio.gather(*(client(50) for _ in range(concurrency)))  # warm-up
        profiler = cProfile.Profile(time.process_time) if profile else None
        started = time.process_time()
        if profiler:
            profiler.enable()
        await asyncio.gather(*(client(requests // concurrency) for _ in range(concurrency)))
        if profiler:
            profiler.disable()
        cpu = (time.process_time() - started) / (requests // concurrency * concurrency)
        await lifespan.stop()
        if set(statuses) - {200, 201}:
            raise RuntimeError(f"{target} {scenario}: statuses {statuses}")
        if profiler:
            stats = pstats.Stats(profiler).sort_stats("tottime")
            stats.print_stats(25)
            if os.environ.get("CPU_CUMULATIVE"):
                stats.sort_stats("cumulative").print_stats(os.environ["CPU_CUMULATIVE"], 40)
            if os.environ.get("CPU_CALLERS"):
                stats.print_callers(os.environ["CPU_CALLERS"])
        return cpu
    finally:
        await seed.drop_database(os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER), url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cpu", description=__doc__)
    parser.add_argument("--target", choices=["service", "ceiling", "both"], default="both")
    parser.add_argument(
        "--scenario",
        choices=["get_post", "list_posts", "list_comments", "create_post", "update_post"],
        default="get_post",
    )
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--loop", choices=["asyncio", "uvloop"], default="asyncio", help="the event loop (default asyncio)"
    )
    args = parser.parse_args(argv)
    targets = ["service", "ceiling"] if args.target == "both" else [args.target]
    for target in targets:
        # A fresh interpreter per target: the two apps must not share imports or pools.
        if len(targets) > 1:
            argv = [sys.executable, "-m", "benchmarks.cpu", "--target", target, "--scenario", args.scenario]
            argv += ["--requests", str(args.requests), "--concurrency", str(args.concurrency), "--loop", args.loop]
            os.spawnv(os.P_WAIT, sys.executable, argv)  # noqa: S606 - our own module
            continue
        work = measure(target, args.scenario, args.requests, args.concurrency, args.profile)
        if args.loop == "uvloop":
            import uvloop

            cpu = uvloop.run(work)
        else:
            cpu = asyncio.run(work)
        print(f"{target:<8} {args.scenario:<14} {args.loop:<8} {cpu * 1e6:6.0f} µs CPU per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
