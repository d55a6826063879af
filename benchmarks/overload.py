"""`uv run python -m benchmarks.overload`: latency and shedding from normal load to far past capacity,
before and after, measured side by side.

Two `just serve` (1 worker each) on one seeded PostgreSQL database, as `just bench` seeds it:
"before" with Granian's own connection defaults and no admission control (``--before``), "after"
with the project's defaults (plus ``--after``). For each scenario (`GET /v1/posts/{id}` and
`POST /v1/posts` by default) and connection count (32, 128, 512, 2,048), each server in turn
(alternating which goes first): once both answer promptly again, wrk for a short warm-up, then
``--duration`` seconds measured; then, the moment that wrk stops, 1 s of wrk at 32 connections,
whose rate against the 32-connection row says whether the server is back to full speed within a
second of the load dropping.

503s are counted apart from other errors; p50 and p99 are wrk's, over every answer (503s
included). "worker CPU" is the worker process's CPU time over the measured seconds (100 % = one
core): on a shared machine the rates move with the other load, the CPU each answer costs less so.
Takes about 5 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from benchmarks import seed
from benchmarks.bench import (
    DEFAULT_SERVER,
    STOCK_GRANIAN,
    Run,
    Server,
    ensure_wrk,
    mint_token,
    run_wrk,
    served,
    service_env,
)
from benchmarks.scenarios import SCENARIOS, Scenario
from tests.support import databases
from tests.support.servers import free_port

RECOVERY_CONNECTIONS = 32
RECOVERY_SECONDS = 1
BEFORE = {**STOCK_GRANIAN, "ADMISSION_MAX_IN_FLIGHT": "0"}


@dataclass
class Cell:
    server: str
    title: str
    connections: int
    run: Run
    after: Run  # 1 s at RECOVERY_CONNECTIONS, right after the run
    cpu_s: float  # the worker's CPU time during the run (Granian's threads and Python's)


def table(cells: list[Cell]) -> str:
    ms = lambda us: f"{us / 1000:.1f}"  # noqa: E731
    lines = [
        "| scenario | conns | server | answers/s | 2xx/s | p50 ms | p99 ms | 503s | other errors | worker CPU "
        "| next 1 s at 32 conns |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for cell in cells:
        run, after = cell.run, cell.after
        seconds = run.duration_us / 1e6
        ok = (run.requests - run.non2xx) / seconds if seconds else 0.0
        full = next(
            (
                c.run.rps
                for c in cells
                if (c.server, c.title, c.connections) == (cell.server, cell.title, RECOVERY_CONNECTIONS)
            ),
            0,
        )
        recovered = f" ({after.rps / full:.0%})" if full else ""
        lines.append(
            f"| {cell.title} | {cell.connections:,} | {cell.server} | {run.rps:,.0f} | {ok:,.0f} | {ms(run.p50_us)} "
            f"| {ms(run.p99_us)} | {run.shed:,} | {other_errors(run)} | {cell.cpu_s / seconds:.0%} "
            f"| {after.rps:,.0f}/s{recovered}"
            f"{', ' + other_errors(after) + ' errors' if after.errors else ''} |"
        )
    return "\n".join(lines) + "\n"


def other_errors(run: Run) -> str:
    """Errors that are not 503s, by kind: other statuses and wrk's socket errors."""
    kinds = {"other statuses": run.non2xx - run.shed, "connect": run.connect, "read": run.read}
    kinds |= {"write": run.write, "timeout": run.timeout}
    total = sum(kinds.values())
    return f"{total:,} ({', '.join(f'{k}×{v}' for k, v in kinds.items() if v)})" if total else "0"


def worker_cpu_s(server: Server) -> float:
    """User and system CPU seconds of the server's worker(s) so far."""
    ticks = 0
    for pid in server.workers():
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def settle(server: Server, scenario: Scenario, token: str, give_up_s: float = 60) -> None:
    """Until three answers in a row take under 100 ms: the server has worked off what it was left."""
    method, path, body = scenario.probe()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    prompt, deadline = 0, time.monotonic() + give_up_s
    while prompt < 3 and time.monotonic() < deadline:
        started = time.monotonic()
        try:
            request = urllib.request.Request(server.url + path, data=body, method=method, headers=headers)
            with urllib.request.urlopen(request, timeout=10):
                pass
            prompt = prompt + 1 if time.monotonic() - started < 0.1 else 0
        except (urllib.error.URLError, OSError):
            prompt = 0
            time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.overload", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--connections", default="32,128,512,2048", help="comma-separated (default 32,128,512,2048)")
    parser.add_argument("--only", default="get_post,create_post", help="scenarios (default get_post,create_post)")
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per cell (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per cell (default 2)")
    parser.add_argument(
        "--before",
        action="append",
        metavar="NAME=VALUE",
        help="the before server's settings (default: Granian's own defaults, ADMISSION_MAX_IN_FLIGHT=0)",
    )
    parser.add_argument("--after", action="append", default=[], metavar="NAME=VALUE", help="more for the after server")
    args = parser.parse_args(argv)

    wrk = ensure_wrk()
    scenarios = [s for s in SCENARIOS if s.name in args.only.split(",")]
    connections = [int(c) for c in args.connections.split(",")]
    variants = {
        "before": dict(item.split("=", 1) for item in args.before) if args.before else BEFORE,
        "after": dict(item.split("=", 1) for item in args.after),
    }
    server_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)
    started = time.monotonic()
    url = asyncio.run(seed.create_database(server_url))
    work = Path(tempfile.mkdtemp(prefix="blog-overload-"))
    servers: dict[str, Server] = {}
    try:
        asyncio.run(databases.migrate_database(url))
        asyncio.run(seed.seed(url))
        env = service_env(url, work / "var", workers=1)
        token = mint_token(env)
        for name, settings in variants.items():
            servers[name] = served({**env, **settings}, free_port(), work / f"{name}.log", name)
            servers[name].start()
        for server in servers.values():
            server.wait_ready()
        wrk_env = {**os.environ, "BENCH_TOKEN": token, "BENCH_POSTS": str(seed.POSTS)}
        load = [os.getloadavg()[0]]
        cells: list[Cell] = []
        turn = 0
        for scenario in scenarios:
            script = work / f"{scenario.name}.lua"
            script.write_text(scenario.lua())
            for conns in connections:
                order = list(servers.values()) if turn % 2 == 0 else list(servers.values())[::-1]
                turn += 1
                for server in order:
                    for each in servers.values():
                        settle(each, scenario, token)
                    run_wrk(wrk, script, server.url, conns, args.warmup, wrk_env)
                    cpu_before = worker_cpu_s(server)
                    run = run_wrk(wrk, script, server.url, conns, args.duration, wrk_env)
                    cpu = worker_cpu_s(server) - cpu_before
                    after = run_wrk(wrk, script, server.url, RECOVERY_CONNECTIONS, RECOVERY_SECONDS, wrk_env)
                    cells.append(Cell(server.name, scenario.title, conns, run, after, cpu))
                    load.append(os.getloadavg()[0])
                    print(f"  {table([cells[-1]]).splitlines()[-1]}", flush=True)
        cells.sort(key=lambda c: ([s.title for s in scenarios].index(c.title), c.connections, c.server))
        described = "; ".join(
            f"{name}: {' '.join(f'{k}={v}' for k, v in settings.items()) or 'defaults'}"
            for name, settings in variants.items()
        )
        out = (
            f"`just serve`, 1 worker each ({described}); load average {min(load):.1f}–{max(load):.1f}; "
            f"wrk -t2, {args.warmup} s warm-up, {args.duration} s measured\n\n" + table(cells)
        )
        print("\n" + out + f"\n(whole run {time.monotonic() - started:.0f} s)")
        return 0
    except BaseException:
        for server in servers.values():
            if server.log.exists():
                print(f"--- {server.name} ---", *server.log.read_text(errors="replace").splitlines()[-30:], sep="\n")
        raise
    finally:
        for server in servers.values():
            server.stop()
        asyncio.run(seed.drop_database(server_url, url))
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
