"""`uv run just bench [--soak]`: the service against its bare ceiling, under wrk, on a seeded PostgreSQL.

1. Creates a throwaway database on the server BENCH_DATABASE_URL names (default
   postgresql://postgres@127.0.0.1:5432/postgres), migrates it, seeds it with COPY.
2. Mints a token with the dev key (`python -m app.cli token bench`) in a temporary VAR_DIR.
3. Starts the service (`just serve`, Granian, 1 worker) and the ceiling (benchmarks/ceiling.py,
   Granian, same flags), each in a process group of its own.
4. For each scenario and connection count, service then ceiling: wrk for a 3 s warm-up, then
   10 s measured; the worker's RSS is sampled meanwhile.
5. With --soak: 60 s of a mixed load on the service, RSS sampled every second.
6. gRPC (scenario ``grpc_get_post``): a third `just serve` with GRPC_PORT set, so that the rows
   above carry no gRPC; on it, unary ``GetPost`` (benchmarks/grpc_load.py, a grpcio client in a
   process of its own) against ``GET /v1/posts/{id}`` (wrk) in alternating slices, same worker.
7. Stops the servers (by their process group id), drops the database, and writes the tables to
   benchmarks/results/<date>.md (and prints them).

wrk is the load generator (a separate C process; a Python one would measure itself). Debian:
`apt-get install -y wrk`; when it is missing and we run as root, the bench installs it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from benchmarks import profile, seed
from benchmarks.scenarios import SCENARIOS, SOAK, Scenario
from tests.support import databases

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
# Granian 2.8's own defaults for what app/serve.sh sets: the "before" of benchmarks/slow_clients.py
# and benchmarks/overload.py.
STOCK_GRANIAN = {
    "GRANIAN_HTTP": "auto",
    "GRANIAN_BACKLOG": "1024",
    "GRANIAN_BACKPRESSURE": "1024",  # backlog / workers
    "GRANIAN_HTTP1_HEADER_READ_TIMEOUT": "30000",
}
# Settings that would point the service somewhere else than the benchmark's own database and keys.
FOREIGN_SETTINGS = (
    "OIDC_ISSUER",
    "OIDC_AUDIENCE",
    # region: openfga
    "OPENFGA_API_URL",
    # endregion
    "CONSUL_URL",
    "SERVICE_PREFIX",
)


# -- processes ------------------------------------------------------------------------------------
def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    health: str
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("wb") as log:
            # A session of its own: stop() ends exactly this group (just, its shell, Granian, workers).
            self.process = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log}")
            with contextlib.suppress(OSError), urllib.request.urlopen(self.url + self.health, timeout=2) as answer:
                if answer.status == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s; see {self.log}")

    def workers(self) -> list[int]:
        """Granian's worker processes: the leaves of the process tree we started."""
        if self.process is None:
            return []
        children = _children()
        leaves, stack = [], [self.process.pid]
        while stack:
            pid = stack.pop()
            kids = children.get(pid, [])
            if not kids and pid != self.process.pid:
                leaves.append(pid)
            stack.extend(kids)
        return leaves

    def worker_cpu_seconds(self) -> float:
        """CPU time the workers have used so far: per request, it does not blur with the machine's load."""
        return sum(_cpu_seconds(pid) for pid in self.workers())

    def worker_rss_mib(self) -> float:
        """The largest worker's resident set (MiB)."""
        return max((_rss_kib(pid) for pid in self.workers()), default=0) / 1024

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        pgid = self.process.pid  # the session we created: its id is the leader's pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            self.process.wait(timeout=5)
        # Granian's workers may outlive the shell for a moment: wait for the group to be empty.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


class RssSampler:
    """Samples a server's worker RSS in a thread while a load runs."""

    def __init__(self, server: Server, interval: float) -> None:
        self.server, self.interval = server, interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.server.worker_rss_mib())
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(self.server.worker_rss_mib())


def service_env(database_url: str, var_dir: Path, workers: int) -> dict[str, str]:
    """The environment `just serve` runs with in a benchmark: this process's, minus anything that
    would point it elsewhere, on the benchmark's database and dev key, JSON logs as in production."""
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_SETTINGS and not k.startswith("CONSUL_")}
    env.update(
        DATABASE_URL=database_url,
        VAR_DIR=str(var_dir),
        APP_ENV="development",  # for the dev key pair: a real RS256 JWT, only the key source differs
        LOG_FORMAT="json",  # production's format (development's default is the console renderer)
        DB_AUTO_MIGRATE="false",
        HOST="127.0.0.1",
        WEB_CONCURRENCY=str(workers),
    )
    return env


def mint_token(env: dict[str, str]) -> str:
    """A bearer token for the seeded user, signed with the dev key the service will verify with."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "token", seed.BENCH_USER, "--ttl", "7200"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def served(env: dict[str, str], port: int, log: Path, name: str = "service") -> Server:
    """`just serve` on ``port`` (not started yet)."""
    just = shutil.which("just") or "just"
    return Server(name, [just, "serve"], {**env, "PORT": str(port)}, port, "/health/ready", log)


# -- wrk ------------------------------------------------------------------------------------------
def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: installing it (apt-get install -y wrk)", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
        wrk = shutil.which("wrk")
        if wrk:
            return wrk
    sys.exit("wrk is needed: `sudo apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`")


@dataclass
class Run:
    requests: int
    duration_us: int
    p50_us: int
    p99_us: int
    non2xx: int
    connect: int
    read: int
    write: int
    timeout: int
    rss_mib: float = 0.0
    statuses: str = ""  # the non-2xx statuses seen (the first ones), space-separated
    shed: int = 0  # 503 answers (also counted in non2xx)
    client_cpu: float = 0.0  # grpc_load only: the share of a core the load generator used
    server_cpu_s: float = 0.0  # the service worker's CPU time during the run (gRPC rows only)

    @property
    def cpu_us_per_request(self) -> float:
        return self.server_cpu_s / self.requests * 1e6 if self.requests else 0.0

    @classmethod
    def merged(cls, runs: list[Run]) -> Run:
        """One run from consecutive slices: p50 weighted by requests, the worst p99, the largest RSS."""
        requests = sum(r.requests for r in runs)
        return cls(
            requests=requests,
            duration_us=sum(r.duration_us for r in runs),
            p50_us=round(sum(r.p50_us * r.requests for r in runs) / requests) if requests else 0,
            p99_us=max(r.p99_us for r in runs),
            non2xx=sum(r.non2xx for r in runs),
            connect=sum(r.connect for r in runs),
            read=sum(r.read for r in runs),
            write=sum(r.write for r in runs),
            timeout=sum(r.timeout for r in runs),
            rss_mib=max(r.rss_mib for r in runs),
            statuses=" ".join(r.statuses.strip() for r in runs if r.statuses.strip()),
            shed=sum(r.shed for r in runs),
            client_cpu=max(r.client_cpu for r in runs),
            server_cpu_s=sum(r.server_cpu_s for r in runs),
        )

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1e6) if self.duration_us else 0.0

    @property
    def errors(self) -> int:
        return self.non2xx + self.connect + self.read + self.write + self.timeout

    def describe_errors(self) -> str:
        """``0``, or the count and what they were, e.g. ``3 (503×2, timeout×1)``."""
        if not self.errors:
            return "0"
        kinds = Counter(self.statuses.split())
        kinds.update({k: v for k, v in vars(self).items() if k in ("connect", "read", "write", "timeout") and v})
        return f"{self.errors} ({', '.join(f'{kind}×{n}' for kind, n in kinds.most_common())})"


def run_wrk(wrk: str, script: Path, url: str, connections: int, seconds: int, env: dict[str, str]) -> Run:
    argv = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(script), url]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 30, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return Run(**json.loads(line.removeprefix("BENCH_RESULT ")))
    raise RuntimeError(f"wrk gave no result (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")


GRPC_CHANNELS = 4  # the gRPC client's connections; the calls in flight are the row's connection count


def run_grpc_load(port: int, token: str, concurrency: int, seconds: float) -> Run:
    argv = [sys.executable, "-m", "benchmarks.grpc_load", "--target", f"127.0.0.1:{port}", "--token", token]
    argv += ["--concurrency", str(concurrency), "--channels", str(GRPC_CHANNELS), "--seconds", str(seconds)]
    argv += ["--posts", str(seed.POSTS)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 60, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return Run(**json.loads(line.removeprefix("BENCH_RESULT ")))
    raise RuntimeError(f"grpc_load gave no result (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")


def probe(server: Server, scenario: Scenario, token: str) -> None:
    method, path, body = scenario.probe()
    request = urllib.request.Request(
        server.url + path,
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    if not 200 <= status < 300:
        raise RuntimeError(f"{server.name}: {method} {path} answered {status}; see {server.log}")


# -- the report -----------------------------------------------------------------------------------
@dataclass
class Row:
    scenario: Scenario
    connections: int
    service: Run
    ceiling: Run

    @property
    def ratio(self) -> float:
        return self.service.rps / self.ceiling.rps if self.ceiling.rps else 0.0

    def verdict(self) -> str:
        misses = []
        if self.scenario.min_ratio is not None and self.ratio < self.scenario.min_ratio:
            misses.append(f"ratio < {self.scenario.min_ratio:.1f}")
        if (
            self.scenario.max_p99_ms_at_32 is not None
            and self.connections == 32
            and self.service.p99_us / 1000 > self.scenario.max_p99_ms_at_32
        ):
            misses.append(f"p99 > {self.scenario.max_p99_ms_at_32:.0f} ms")
        if self.service.errors:
            misses.append("errors")
        if self.service.rss_mib >= 100:
            misses.append("RSS ≥ 100 MB")
        wanted = [f"≥ {self.scenario.min_ratio:.1f}×"] if self.scenario.min_ratio is not None else []
        if self.scenario.max_p99_ms_at_32 is not None and self.connections == 32:
            wanted.append(f"p99 ≤ {self.scenario.max_p99_ms_at_32:.0f} ms")
        return ("✗ " + ", ".join(misses)) if misses else ("✓ " + ", ".join(wanted)).strip()


@dataclass
class Soak:
    seconds: int
    run: Run
    samples: list[float] = field(default_factory=list)

    @property
    def start(self) -> float:
        # The first sample after the load began (the bench has warmed the worker already).
        return self.samples[min(2, len(self.samples) - 1)]

    @property
    def growth(self) -> float:
        return (self.samples[-1] - self.start) / self.start if self.start else 0.0


@dataclass
class GrpcRow:
    concurrency: int
    grpc: Run  # GetPost over gRPC, on the service with GRPC_PORT set
    http: Run  # GET /v1/posts/{id} on that same service
    plain: Run | None = None  # GET /v1/posts/{id} on the first service (no gRPC server), when it runs

    @property
    def ratio(self) -> float:
        return self.grpc.rps / self.http.rps if self.http.rps else 0.0


def grpc_report(rows: list[GrpcRow]) -> list[str]:
    ms = lambda us: f"{us / 1000:.1f}"  # noqa: E731
    lines = [
        "",
        "gRPC: unary `PostService.GetPost` (benchmarks/grpc_load.py: one grpcio aio client process, the row's count "
        f"of calls in flight over {GRPC_CHANNELS} HTTP/2 connections, random seeded posts) against `GET /v1/posts/{{id}}` "
        "(wrk, that many connections), on one `just serve` with GRPC_PORT set, in alternating slices; the last "
        "column is the same GET on the first service (no gRPC server) in the same rotation. "
        "Client CPU: the share of a core the gRPC client used (near 1.0: the client, not the server, set the rate).",
        "",
        "Server CPU: the worker's CPU time per call (from /proc), which a busy machine blurs far less than the rates.",
        "",
        "| gRPC GetPost vs HTTP GET | in flight | gRPC calls/s | p50 ms | p99 ms | errors | client CPU | HTTP req/s "
        "| p50 ms | p99 ms | errors | gRPC ÷ HTTP | server CPU µs/call gRPC | HTTP | RSS MB | HTTP req/s without gRPC |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        g, h = row.grpc, row.http
        plain = f"{row.plain.rps:,.0f}" if row.plain else "–"
        lines.append(
            f"| same worker | {row.concurrency} | {g.rps:,.0f} | {ms(g.p50_us)} | {ms(g.p99_us)} | {g.describe_errors()} "
            f"| {g.client_cpu:.2f} | {h.rps:,.0f} | {ms(h.p50_us)} | {ms(h.p99_us)} | {h.describe_errors()} "
            f"| {row.ratio:.2f}× | {g.cpu_us_per_request:,.0f} | {h.cpu_us_per_request:,.0f} "
            f"| {max(g.rss_mib, h.rss_mib):.0f} | {plain} |"
        )
    return lines


def report(rows: list[Row], soak: Soak | None, meta: dict[str, str], grpc_rows: list[GrpcRow] | None = None) -> str:
    ms = lambda us: f"{us / 1000:.1f}"  # noqa: E731
    lines = [
        f"# Benchmark {meta['when']}",
        "",
        f"{meta['machine']}. Commit `{meta['commit']}`.",
        f"Data: 1 user, 10,000 posts, 50,000 comments (PostgreSQL, seeded by COPY). Each cell: wrk -t2, {meta.get('timing', '3 s warm-up, then 10 s measured')}. "
        "Service: `just serve` (Granian, 1 worker, dev auth verifying RS256 JWTs, JSON logs); ceiling: "
        "`benchmarks/ceiling.py` (raw ASGI on Granian, 1 worker, joserfc per request, same SQL via asyncpg).",
        "Errors = non-2xx answers + socket errors. RSS = the Granian worker's resident set, the largest sample.",
        "",
        "| scenario | conns | service req/s | p50 ms | p99 ms | errors | RSS MB | ceiling req/s | p50 ms | p99 ms "
        "| errors | ratio | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        s, c = row.service, row.ceiling
        lines.append(
            f"| {row.scenario.title} | {row.connections} | {s.rps:,.0f} | {ms(s.p50_us)} | {ms(s.p99_us)} "
            f"| {s.describe_errors()} | {s.rss_mib:.0f} | {c.rps:,.0f} | {ms(c.p50_us)} | {ms(c.p99_us)} "
            f"| {c.describe_errors()} | {row.ratio:.2f}× "
            f"| {row.verdict()} |"
        )
    if rows:
        lines += [
            "",
            f"Service worker RSS: {min(r.service.rss_mib for r in rows):.0f}–{max(r.service.rss_mib for r in rows):.0f}"
            f" MB; ceiling worker: {max(r.ceiling.rss_mib for r in rows):.0f} MB.",
        ]
    if soak is not None:
        flat = "✓ flat" if soak.growth < 0.10 and soak.run.errors == 0 else "✗"
        lines += [
            "",
            f"Soak ({SOAK.title}), {soak.seconds} s at 32 connections: {soak.run.rps:,.0f} req/s, "
            f"p99 {ms(soak.run.p99_us)} ms, {soak.run.describe_errors()} errors; worker RSS {soak.start:.1f} → "
            f"{soak.samples[-1]:.1f} MB (max {max(soak.samples):.1f}), growth {soak.growth:+.1%} {flat} (target < 10 %).",
        ]
    if grpc_rows:
        lines += grpc_report(grpc_rows)
    return "\n".join(lines) + "\n"


def _meta() -> dict[str, str]:
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout.split("[")[0]
    return {
        "when": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {wrk_version.strip()}",
        "commit": commit or "unknown",
    }


GRPC_SCENARIO = "grpc_get_post"


def measure_grpc(
    args: argparse.Namespace,
    env: dict[str, str],
    work: Path,
    token: str,
    wrk: str,
    wrk_env: dict[str, str],
    connections: list[int],
    servers: list[Server],
    plain: Server,
) -> list[GrpcRow]:
    """GetPost over gRPC against GET over HTTP, on one service process that serves both; and the
    same GET on ``plain``, the service without a gRPC server, for what turning gRPC on costs HTTP."""
    http_port, grpc_port = args.port + 2, args.port + 3
    grpc_env = {**env, "PORT": str(http_port), "GRPC_PORT": str(grpc_port), "GRPC_HOST": "127.0.0.1"}
    server = Server(
        "grpc", [shutil.which("just") or "just", "serve"], grpc_env, http_port, "/health/ready", work / "grpc.log"
    )
    servers.append(server)
    server.start()
    server.wait_ready()
    get_post = next(s for s in SCENARIOS if s.name == "get_post")
    script = work / "get_post.lua"
    script.write_text(get_post.lua())
    probe(server, get_post, token)
    if run_grpc_load(grpc_port, token, 1, 0.5).errors:
        raise RuntimeError(f"GetPost over gRPC failed; see {server.log}")
    rows = []
    for conns in connections:
        run_grpc_load(grpc_port, token, conns, args.warmup)
        run_wrk(wrk, script, server.url, conns, args.warmup, wrk_env)
        runs: dict[str, list[Run]] = {"grpc": [], "http": [], "plain": []}
        seconds = args.duration // args.slices
        for turn in range(args.slices):  # rotating: gRPC, HTTP, plain HTTP, then backwards, ...
            for kind in ("grpc", "http", "plain") if turn % 2 == 0 else ("plain", "http", "grpc"):
                target = plain if kind == "plain" else server
                cpu_before = target.worker_cpu_seconds()
                with RssSampler(target, 0.5) as rss:
                    if kind == "grpc":
                        run = run_grpc_load(grpc_port, token, conns, seconds)
                    else:
                        run = run_wrk(wrk, script, target.url, conns, seconds, wrk_env)
                run.server_cpu_s = target.worker_cpu_seconds() - cpu_before
                run.rss_mib = max(rss.samples)
                runs[kind].append(run)
        row = GrpcRow(conns, Run.merged(runs["grpc"]), Run.merged(runs["http"]), Run.merged(runs["plain"]))
        rows.append(row)
        print(
            f"  gRPC GetPost vs HTTP GET     c={conns:<4} gRPC {row.grpc.rps:8,.0f}/s p99 {row.grpc.p99_us / 1000:6.1f} ms "
            f"(client CPU {row.grpc.client_cpu:.2f}, server {row.grpc.cpu_us_per_request:,.0f} µs/call)  "
            f"HTTP {row.http.rps:8,.0f}/s ({row.http.cpu_us_per_request:,.0f} µs/request)  ratio {row.ratio:.2f}  "
            f"errors {row.grpc.describe_errors()}/{row.http.describe_errors()}",
            flush=True,
        )
    server.stop()
    return rows


# -- main -----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="just bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--soak", action="store_true", help="add a 60 s mixed-load RSS flatness run")
    parser.add_argument("--soak-seconds", type=int, default=60)
    parser.add_argument("--connections", default="32,128", help="comma-separated (default 32,128)")
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per cell (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per cell (default 3)")
    parser.add_argument(
        "--slices", type=int, default=2, help="measure in this many alternating slices per server (default 2)"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated scenario names: " + ", ".join([*(s.name for s in SCENARIOS), GRPC_SCENARIO]),
    )
    parser.add_argument("--workers", type=int, default=1, help="Granian workers for both servers (default 1)")
    parser.add_argument("--port", type=int, default=18080, help="service port; the ceiling uses the next one")
    parser.add_argument("--no-ceiling", action="store_true", help="service only")
    parser.add_argument(
        "--profile", action="store_true", help="record the service worker with py-spy per scenario (32 conns) instead"
    )
    parser.add_argument(
        "--keep", type=int, default=0, metavar="SECONDS", help="only start and seed, keep it up this long (or ^C)"
    )
    parser.add_argument("--out", type=Path, default=None, help="where to write the table (default results/<date>.md)")
    args = parser.parse_args(argv)

    wrk = ensure_wrk()
    scenarios = [s for s in SCENARIOS if not args.only or s.name in args.only.split(",")]
    # region: grpc
    with_grpc = not args.only or GRPC_SCENARIO in args.only.split(",")
    # endregion
    connections = [int(c) for c in args.connections.split(",")]
    server_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)

    work = Path(tempfile.mkdtemp(prefix="blog-bench-"))
    print(f"creating and seeding a database on {server_url.rsplit('@', 1)[-1]} ...", flush=True)
    started = time.monotonic()
    url = asyncio.run(seed.create_database(server_url))
    servers: list[Server] = []
    try:
        asyncio.run(databases.migrate_database(url))
        counts = asyncio.run(seed.seed(url))
        print(f"  seeded {counts} in {time.monotonic() - started:.1f} s", flush=True)

        env = service_env(url, work / "var", args.workers)
        token = mint_token(env)
        service = served(env, args.port, work / "service.log")
        servers.append(service)
        ceiling = Server(
            "ceiling",
            ["sh", "app/serve.sh", "benchmarks.ceiling:app"],  # Granian with the service's own settings
            {**env, "PORT": str(args.port + 1)},
            args.port + 1,
            "/health",
            work / "ceiling.log",
        )
        if not args.no_ceiling:
            servers.append(ceiling)
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
        wrk_env = {**os.environ, "BENCH_TOKEN": token, "BENCH_POSTS": str(seed.POSTS)}

        if args.keep:
            print(f"service {service.url}, ceiling {ceiling.url}, database {url}\nBENCH_TOKEN={token}")
            with contextlib.suppress(KeyboardInterrupt):
                time.sleep(args.keep)
            return 0

        if args.profile:
            summaries = []
            for scenario in scenarios:
                script = work / f"{scenario.name}.lua"
                script.write_text(scenario.lua())
                probe(service, scenario, token)
                run_wrk(wrk, script, service.url, 32, args.warmup, wrk_env)
                raw = (args.out.parent / f"{args.out.stem}-{scenario.name}.collapsed") if args.out else work / "raw"
                recorder = profile.record(service.workers()[0], args.duration, raw)
                run = run_wrk(wrk, script, service.url, 32, args.duration, wrk_env)
                recorder.wait(timeout=args.duration + 30)
                title = f"{scenario.title}: {run.rps:,.0f} req/s under py-spy, {run.errors} errors"
                summaries.append(profile.format_summary(title, raw.read_text() if raw.exists() else ""))
                print(summaries[-1], flush=True)
            if args.out:
                args.out.write_text("\n".join(summaries))
                print(f"(summaries in {args.out}, py-spy's collapsed stacks beside it)")
            return 0

        rows: list[Row] = []
        for scenario in scenarios:
            script = work / f"{scenario.name}.lua"
            script.write_text(scenario.lua())
            for server in servers:
                probe(server, scenario, token)
            for conns in connections:
                for server in servers:
                    run_wrk(wrk, script, server.url, conns, args.warmup, wrk_env)
                # Alternating slices (service, ceiling, ceiling, service, ...): both see the same
                # background load, which on a shared machine moves more than the ratio does.
                slices: dict[str, list[Run]] = {server.name: [] for server in servers}
                for turn in range(args.slices):
                    for server in servers if turn % 2 == 0 else servers[::-1]:
                        with RssSampler(server, 0.5) as rss:
                            run = run_wrk(wrk, script, server.url, conns, args.duration // args.slices, wrk_env)
                        run.rss_mib = max(rss.samples)
                        slices[server.name].append(run)
                runs = {name: Run.merged(parts) for name, parts in slices.items()}
                runs.setdefault("ceiling", runs["service"])
                row = Row(scenario, conns, runs["service"], runs["ceiling"])
                rows.append(row)
                print(
                    f"  {scenario.title:<28} c={conns:<4} service {row.service.rps:8,.0f}/s "
                    f"p99 {row.service.p99_us / 1000:6.1f} ms  ceiling {row.ceiling.rps:8,.0f}/s  "
                    f"ratio {row.ratio:.2f}  errors {row.service.describe_errors()}/{row.ceiling.describe_errors()}  "
                    f"RSS {row.service.rss_mib:.0f} MB",
                    flush=True,
                )

        grpc_rows: list[GrpcRow] = []
        # region: grpc
        if with_grpc:
            grpc_rows = measure_grpc(args, env, work, token, wrk, wrk_env, connections, servers, service)
        # endregion

        soak = None
        if args.soak:
            script = work / "mixed.lua"
            script.write_text(SOAK.lua())
            print(f"  soak: {args.soak_seconds} s of mixed load on the service ...", flush=True)
            with RssSampler(service, 1.0) as rss:
                run = run_wrk(wrk, script, service.url, 32, args.soak_seconds, wrk_env)
            soak = Soak(args.soak_seconds, run, rss.samples)

        meta = _meta()
        meta["timing"] = (
            f"{args.warmup} s warm-up, then {args.duration // args.slices * args.slices} s measured in {args.slices} "
            "slices alternating with the ceiling (service, ceiling, ceiling, service); p50 weighted by requests, p99 the "
            "worse slice's"
        )
        table = report(rows, soak, meta, grpc_rows)
        out = args.out or RESULTS / f"{datetime.now():%Y-%m-%d}.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(table)
        print(
            "\n" + table + f"\n(written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}; "
            f"whole run {time.monotonic() - started:.0f} s)"
        )
        return 0
    except BaseException:
        for server in servers:
            if server.log.exists():
                tail = server.log.read_text(errors="replace").splitlines()[-30:]
                print(f"--- last lines of the {server.name}'s log ---", *tail, sep="\n", file=sys.stderr)
        raise
    finally:
        for server in servers:
            server.stop()
        asyncio.run(seed.drop_database(server_url, url))
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
