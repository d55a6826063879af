"""A throwaway PostgreSQL server that a test starts, stops and starts again itself (``pg_ctl``).

The shared server on 127.0.0.1:5432 cannot be stopped by a test; this one can. Its data directory
and socket live in a temporary directory; it listens on a free port of 127.0.0.1 only, with trust
auth and fsync off (nothing in it outlives the run). ``pg_ctl`` refuses to run as root, so as root
every command runs as the ``postgres`` OS user, which then owns the temporary directory.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import asyncpg

SERVER_USER = "postgres"


def find_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl (Debian keeps them off PATH)."""
    if (initdb := shutil.which("initdb")) is not None:
        return Path(initdb).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgCluster:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="blog-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.log = self.root / "server.log"
        self.port = free_port()
        self._as_root = os.geteuid() == 0
        self._frozen: list[int] = []

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{name}"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if self._as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{tool} {' '.join(args)} failed: {result.stderr.strip()}\n{log[-2000:]}")

    def init(self) -> PgCluster:
        self.sockets.mkdir()
        if self._as_root:
            shutil.chown(self.root, SERVER_USER)
            shutil.chown(self.sockets, SERVER_USER)
        self._run("initdb", "-D", str(self.data), "-U", SERVER_USER, "-A", "trust", "--no-sync", "-E", "UTF8")
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` disconnects every client and shuts down; ``immediate`` is a crash."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def postmaster(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def children(self, parent: int) -> list[int]:
        """The processes ``parent`` forked (backends, checkpointer, ...)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                # The command may hold spaces and parentheses: the parent pid follows the last ")".
                if int(stat.read_text().rpartition(")")[2].split()[1]) == parent:
                    found.append(int(stat.parent.name))
        return found

    def freeze(self) -> None:
        """SIGSTOP every process of this server (and only of it), the postmaster first, so that it
        forks no new backend: the kernel still accepts connections and keeps what clients send;
        nobody answers."""
        postmaster = self.postmaster()
        os.kill(postmaster, signal.SIGSTOP)
        self._frozen.append(postmaster)
        for pid in self.children(postmaster):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
                self._frozen.append(pid)

    def thaw(self) -> None:
        """SIGCONT the processes ``freeze`` stopped."""
        frozen, self._frozen = self._frozen, []
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    async def create_database(self, name: str) -> str:
        connection = await asyncpg.connect(self.url, timeout=10)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return self.database_url(name)

    def destroy(self) -> None:
        self.thaw()
        if self.running():
            with contextlib.suppress(RuntimeError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
