"""`just serve` as a child process, and a bounded load of mixed reads and writes against it.

The load (aiohttp, see ``mixed_load``) keeps a ledger of every write the server acknowledged with a 2xx, so that a test can
check afterwards that each one is in the database.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import msgspec

REPO = Path(__file__).resolve().parents[2]


class ServeProcess:
    """``just serve`` (Granian) on 127.0.0.1:``port``, in its own session so a signal reaches only it."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path) -> None:
        venv_bin = str(Path(sys.executable).parent)  # granian, just: the project's own
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._env = {**os.environ, **env, "PATH": venv_bin + os.pathsep + os.environ.get("PATH", "")}
        self._env.update({"HOST": "127.0.0.1", "PORT": str(port)})
        just = shutil.which("just", path=self._env["PATH"])
        assert just is not None, "`just` comes with the dev dependencies (rust-just)"
        self._command = [just, "serve"]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self._command, cwd=REPO, env=self._env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    async def wait_ready(self, timeout: float = 90) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as client:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                assert not self.exited(), f"server exited:\n{self.log()}"
                try:
                    if (await client.get("/health/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"server not ready after {timeout} s:\n{self.log()}")

    def terminate(self) -> None:
        """SIGTERM to `just`, which passes it to Granian: what an orchestrator does to the service."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def stop(self) -> None:
        """Make sure nothing is left running (the whole session: just, Granian, its workers)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def worker_rss_bytes(self) -> int:
        """Resident memory of the processes that serve requests (Granian's workers: the tree's leaves)."""
        assert self.process is not None
        tree = _descendants(self.process.pid)
        parents = {_parent(pid) for pid in tree}
        return sum(_rss(pid) for pid in tree if pid not in parents)


def _parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return -1
    return int(stat.rsplit(")", 1)[1].split()[1])


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            children.setdefault(_parent(int(entry.name)), []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        for child in children.get(pid, []):
            found.append(child)
            queue.append(child)
    return found


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class Ledger:
    """What the server answered, and every write it acknowledged."""

    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    posts: dict[str, tuple[int, str]] = field(default_factory=dict)  # id → (version, content) last acknowledged
    post_ids: list[str] = field(default_factory=list)  # the same ids, to pick from in O(1)
    comments: dict[str, str] = field(default_factory=dict)  # id → content

    @property
    def requests(self) -> int:
        return self.statuses.total() + self.transport_errors.total()

    def server_errors(self) -> dict[int, int]:
        return {status: count for status, count in self.statuses.items() if status >= 500}


async def mixed_load(
    base_url: str,
    tokens: list[str],
    *,
    keep_going: Callable[[], bool],
    max_requests: int,
    connections: int = 64,
    seed: int = 0,
) -> Ledger:
    """``connections`` workers, one user each, sending mixed requests while ``keep_going()`` and
    until ``max_requests`` were sent. Each worker patches only its own posts, so every PATCH it sends
    names the current version (a 412 would be a lost update).

    aiohttp rather than httpx: on this 2-core machine httpx's pool, not the server, was the limit
    (about 130 requests/s against /health/live, where aiohttp sends about 1,500).
    """
    ledger = Ledger()
    budget = iter(range(max_requests))
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as session:

        async def worker(number: int) -> None:
            rng = random.Random(seed * 1000 + number)
            headers = {"Authorization": f"Bearer {tokens[number % len(tokens)]}"}
            mine: list[str] = []
            while keep_going() and next(budget, None) is not None:
                await _one_request(session, rng, headers, mine, ledger)

        await asyncio.gather(*(worker(n) for n in range(connections)))
    return ledger


async def _send(session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    async with session.request(method, url, **kwargs) as response:
        body = await response.read()
        return response.status, (msgspec.json.decode(body) if response.status in (200, 201) else None)


async def _one_request(
    session: aiohttp.ClientSession, rng: random.Random, headers: dict[str, str], mine: list[str], ledger: Ledger
) -> None:
    roll = rng.random()
    known = ledger.post_ids
    try:
        if roll < 0.30 or not mine or not known:
            content = f"post {rng.getrandbits(64):x}"
            status, body = await _send(session, "POST", "/v1/posts", json={"content": content}, headers=headers)
            if status == 201:
                ledger.posts[body["id"]] = (1, content)
                ledger.post_ids.append(body["id"])
                mine.append(body["id"])
        elif roll < 0.45:
            post_id = rng.choice(mine)
            version, _ = ledger.posts[post_id]
            content = f"edit {rng.getrandbits(64):x}"
            status, body = await _send(
                session,
                "PATCH",
                f"/v1/posts/{post_id}",
                json={"content": content},
                headers={**headers, "If-Match": f'"{version}"'},
            )
            if status == 200:
                ledger.posts[post_id] = (body["version"], content)
        elif roll < 0.55:
            content = f"comment {rng.getrandbits(64):x}"
            comment = {"post_id": rng.choice(known), "content": content}
            status, body = await _send(session, "POST", "/v1/comments", json=comment, headers=headers)
            if status == 201:
                ledger.comments[body["id"]] = content
        elif roll < 0.75:
            status, _ = await _send(session, "GET", f"/v1/posts/{rng.choice(known)}", headers=headers)
        elif roll < 0.90:
            params = {"limit": rng.choice([5, 20, 100]), "sort_by": rng.choice(["created_at", "updated_at"])}
            status, _ = await _send(session, "GET", "/v1/posts", params=params, headers=headers)
        elif roll < 0.95:
            params = {"post_id": rng.choice(known)}
            status, _ = await _send(session, "GET", "/v1/comments", params=params, headers=headers)
        else:
            status, _ = await _send(session, "GET", "/v1/users/me", headers=headers)
    except (aiohttp.ClientError, TimeoutError) as exc:
        ledger.transport_errors[type(exc).__name__] += 1
        await asyncio.sleep(0.01)  # the server is going away: do not spin
        return
    ledger.statuses[status] += 1
