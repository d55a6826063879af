"""`uv run python -m benchmarks.slow_clients`: does the service answer others while one client holds
thousands of slow-header sockets?

1. Raises this process's soft limit on open files to the hard limit (the attacker and the server
   inherit it) and says what it was.
2. Creates, migrates and seeds a throwaway PostgreSQL database (as `just bench` does), starts
   `just serve` on it (1 worker, 127.0.0.1 only).
3. Starts the attacker, a separate process (one client): it opens ``--sockets`` connections, sends
   a request line and then one more header line every ``--line-every`` seconds, never ending the
   header block; a socket the server closes is opened again at once, so the count stays up.
4. Meanwhile, from this process (another client), a fresh connection every ``--probe-every``
   seconds sends one whole `GET /v1/posts/{id}` and times the answer (at most ``--probe-timeout``).
5. After ``--seconds``, stops the attacker and the server, drops the database, prints a table.

Everything is bounded: the socket count, the attack's length, each probe's wait; nothing leaves
the loopback. ``--stock`` runs the server with Granian's own defaults (the "before" figures):
``--env NAME=VALUE`` passes any other setting to `just serve`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import seed
from benchmarks.bench import DEFAULT_SERVER, ROOT, STOCK_GRANIAN, RssSampler, mint_token, served, service_env
from tests.support import databases
from tests.support.servers import free_port

PROBE_TARGET_S = 2.0


def raise_open_files() -> tuple[int, int, int]:
    """Soft limit before, soft limit now, hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return soft, resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard


# -- the attacker (its own process) ---------------------------------------------------------------
@dataclass
class Held:
    open: int = 0
    peak: int = 0
    connecting: int = 0
    closed_by_server: int = 0
    connect_failures: int = 0


async def attack(port: int, sockets: int, line_every: float, seconds: float) -> None:
    """Hold ``sockets`` slow-header connections for ``seconds``; one JSON status line per second."""
    held = Held()
    deadline = time.monotonic() + seconds

    async def hold(number: int) -> None:
        while (left := deadline - time.monotonic()) > 0:
            held.connecting += 1
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), left)
            except (OSError, TimeoutError):
                held.connect_failures += 1
                await asyncio.sleep(0.2)
                continue
            finally:
                held.connecting -= 1
            held.open += 1
            held.peak = max(held.peak, held.open)
            try:
                writer.write(b"GET /v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                line = 0
                while (left := deadline - time.monotonic()) > 0:
                    try:  # anything from the server (EOF, or a 408) means it gave up on this socket
                        await asyncio.wait_for(reader.read(4096), min(line_every, left))
                    except TimeoutError:
                        line += 1
                        writer.write(b"X-Slow-%d: %d\r\n" % (number, line))
                        await writer.drain()
                        continue
                    held.closed_by_server += 1
                    break
            except OSError:
                held.closed_by_server += 1
            finally:
                held.open -= 1
                writer.close()

    async def report() -> None:
        while True:
            print(json.dumps(vars(held)), flush=True)
            await asyncio.sleep(1)

    reporter = asyncio.create_task(report())
    await asyncio.gather(*(hold(n) for n in range(sockets)))
    reporter.cancel()
    print(json.dumps(vars(held)), flush=True)


# -- the probes -----------------------------------------------------------------------------------
async def probe(port: int, path: str, token: str, timeout: float) -> tuple[float, int | str]:
    """One request on a fresh connection: (seconds until the whole answer, status or what failed)."""
    started = time.monotonic()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    ).encode()

    async def exchange() -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            answer = await reader.read()  # Connection: close, so the server ends it
        finally:
            writer.close()
        return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0

    try:
        status: int | str = await asyncio.wait_for(exchange(), timeout)
    except TimeoutError:
        status = "timeout"
    except OSError as exc:
        status = type(exc).__name__
    return time.monotonic() - started, status


@dataclass
class Probes:
    results: list[tuple[float, float, int | str]] = field(default_factory=list)  # (sent at, seconds, status)

    def answered(self, within: float = float("inf")) -> list[float]:
        return sorted(s for _, s, status in self.results if status == 200 and s <= within)

    def summary(self) -> str:
        times = self.answered()
        late = len(self.results) - len(self.answered(PROBE_TARGET_S))
        if not times:
            return f"{len(self.results)} probes, none answered"
        p50 = times[len(times) // 2]
        failed = [status for _, _, status in self.results if status != 200]
        return (
            f"{len(self.results)} probes: {len(self.answered(PROBE_TARGET_S))} answered within {PROBE_TARGET_S:.0f} s, "
            f"{late} not (failed: {len(failed)}); answered p50 {p50 * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"
        )

    def longest_gap(self) -> float:
        """The longest stretch of time in which no probe sent was answered within the target."""
        gap = longest = 0.0
        last_good = None
        for sent, seconds, status in sorted(self.results):
            if status == 200 and seconds <= PROBE_TARGET_S:
                last_good = sent
                gap = 0.0
            else:
                gap = sent - (last_good if last_good is not None else self.results[0][0])
                longest = max(longest, gap)
        return longest


async def probe_while(
    port: int, path: str, token: str, every: float, timeout: float, running: threading.Event
) -> Probes:
    probes = Probes()
    started = time.monotonic()

    async def one() -> None:
        sent = time.monotonic() - started
        seconds, status = await probe(port, path, token, timeout)
        probes.results.append((sent, seconds, status))

    tasks = []
    while running.is_set():
        tasks.append(asyncio.create_task(one()))
        await asyncio.sleep(every)
    await asyncio.gather(*tasks)
    return probes


# -- main -----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.slow_clients", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sockets", type=int, default=3000, help="slow sockets the attacker holds (default 3000)")
    parser.add_argument("--seconds", type=float, default=45, help="length of the attack (default 45)")
    parser.add_argument("--line-every", type=float, default=5, help="seconds between header lines (default 5)")
    parser.add_argument("--probe-every", type=float, default=0.5, help="seconds between probes (default 0.5)")
    parser.add_argument("--probe-timeout", type=float, default=15, help="longest wait for a probe (default 15)")
    parser.add_argument("--stock", action="store_true", help="run Granian with its own defaults (before)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="a setting for the server")
    parser.add_argument("--attack", type=int, metavar="PORT", help=argparse.SUPPRESS)  # the attacker process
    args = parser.parse_args(argv)

    if args.attack:
        raise_open_files()
        asyncio.run(attack(args.attack, args.sockets, args.line_every, args.seconds))
        return 0

    soft_before, soft, hard = raise_open_files()
    print(f"open files: soft limit {soft_before} → {soft} (hard {hard})", flush=True)
    if soft < args.sockets + 200:
        sys.exit(f"the open-file limit ({soft}) is too low for {args.sockets} sockets; raise the hard limit")
    server_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)
    url = asyncio.run(seed.create_database(server_url))
    work = Path(tempfile.mkdtemp(prefix="blog-slow-"))
    server = None
    try:
        asyncio.run(databases.migrate_database(url))
        asyncio.run(seed.seed(url, posts=100, comments_per_post=1))
        env = service_env(url, work / "var", workers=1)
        if args.stock:
            env.update(STOCK_GRANIAN)
        env.update(dict(item.split("=", 1) for item in args.env))
        token = mint_token(env)
        port = free_port()
        server = served(env, port, work / "service.log")
        server.start()
        server.wait_ready()
        path = f"/v1/posts/{seed.post_id(1)}"
        quiet = [asyncio.run(probe(port, path, token, args.probe_timeout)) for _ in range(5)]
        print(f"quiet: {', '.join(f'{s * 1000:.1f} ms ({status})' for s, status in quiet)}", flush=True)

        attacker = subprocess.Popen(
            [
                *(sys.executable, "-m", "benchmarks.slow_clients", "--attack", str(port)),
                *("--sockets", str(args.sockets), "--seconds", str(args.seconds), "--line-every", str(args.line_every)),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        statuses: list[dict[str, int]] = []
        attacking = threading.Event()
        attacking.set()

        def follow() -> None:
            assert attacker.stdout is not None
            statuses.extend(json.loads(line) for line in attacker.stdout)
            attacking.clear()

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        load_before = os.getloadavg()
        with RssSampler(server, 1.0) as rss:
            probes = asyncio.run(probe_while(port, path, token, args.probe_every, args.probe_timeout, attacking))
        attacker.wait(timeout=30)
        follower.join(timeout=5)
        held = statuses[-1] if statuses else {}
        peak = max((s["open"] for s in statuses), default=0)
        print(
            "\n".join(
                [
                    f"server: {'Granian defaults' if args.stock else '`just serve`'} {' '.join(args.env)}".rstrip(),
                    f"attacker: {args.sockets} sockets, a header line every {args.line_every:g} s, {args.seconds:g} s; "
                    f"peak open {peak}, closed by the server {held.get('closed_by_server', 0)}, "
                    f"failed connects {held.get('connect_failures', 0)}",
                    f"probes: {probes.summary()}; longest stretch without a timely answer {probes.longest_gap():.1f} s",
                    f"worker RSS: max {max(rss.samples):.0f} MB; load average {load_before[0]:.2f} → "
                    f"{os.getloadavg()[0]:.2f}",
                ]
            ),
            flush=True,
        )
        return 0
    except BaseException:
        if server is not None and server.log.exists():
            print(*server.log.read_text(errors="replace").splitlines()[-30:], sep="\n", file=sys.stderr)
        raise
    finally:
        if server is not None:
            server.stop()
        asyncio.run(seed.drop_database(server_url, url))
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
