"""The production server, for real: `just serve` (Granian) in a subprocess on a free port.

Used where the behaviour under test is the process's (graceful shutdown on SIGTERM) or needs
separate processes (two instances sharing one database). The recipe runs with the project's
venv first on PATH, which is what `uv run just serve` does, without uv re-checking the lock for
every start. Tokens are minted with the same development key the servers verify with (dev auth,
``VAR_DIR`` shared and created before the servers start, so that no two generate their own).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

import httpx

from adapters.auth.keys import DevKeys
from adapters.auth.minting import mint_dev_token

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """One `just serve` (``process`` is `just`; ``granian_pid`` the Granian main process under it).
    ``recipe="dev"`` runs `just dev` instead (migrations, then Granian with auto-reload)."""

    def __init__(self, workdir: Path, database_url: str, recipe: str = "serve", **env: str) -> None:
        self.recipe = recipe
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.var_dir = workdir / "var"
        DevKeys(self.var_dir).load()
        self.log_path = workdir / f"server-{self.port}.log"
        self._env = {
            **os.environ,
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "ENV_FILE": "/nonexistent",
            "APP_ENV": "test",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": "1",
            "DATABASE_URL": database_url,
            "DB_AUTO_MIGRATE": "false",
            "VAR_DIR": str(self.var_dir),
            "LOG_FORMAT": "json",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self._spawned: list[int] = []  # Granian and its workers, as seen once ready

    def start(self) -> Self:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(VENV_BIN / "just"), self.recipe],
                cwd=REPO_ROOT,
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_ready(self, deadline_s: float = 60.0) -> Self:
        give_up = time.monotonic() + deadline_s
        while True:
            assert self.process is not None
            assert self.process.poll() is None, f"the server died:\n{self.log()}"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200:
                    self._spawned = _descendants(self.process.pid)
                    return self
            assert time.monotonic() < give_up, f"not ready after {deadline_s} s:\n{self.log()}"
            time.sleep(0.1)

    @property
    def granian_pid(self) -> int:
        """Granian's main process: the first process under `just` that runs Granian itself (`just serve`
        execs it from the recipe's shell; `just dev` leaves the shell in between)."""
        assert self.process is not None
        descendants = _descendants(self.process.pid)
        for pid in descendants:
            with contextlib.suppress(OSError):
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if any(arg.endswith(b"granian") for arg in argv[:2]):  # the script, or its interpreter's argument
                    return pid
        raise AssertionError(f"no Granian process under `just {self.recipe}` (pid {self.process.pid}): {descendants}")

    def worker_pids(self) -> list[int]:
        """Granian's workers: the processes under its main process."""
        return _descendants(self.granian_pid)

    def token(self, username: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_dev_token(DevKeys(self.var_dir), username, list(roles))}"}

    def terminate(self) -> None:
        """SIGTERM to the Granian main process, as a container runtime sends it."""
        os.kill(self.granian_pid, signal.SIGTERM)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def close(self) -> None:
        """Tear-down: `just`, Granian and its workers, each by the PID we started or it spawned
        (workers seen at start-up too: they are orphaned if their main process died first)."""
        if self.process is None:
            return
        tree = {*_descendants(self.process.pid), *self._spawned}
        for pid in tree:
            with contextlib.suppress(OSError):
                if b"granian" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


def _children(pid: int) -> list[int]:
    """Children of every thread of ``pid`` (a multithreaded parent such as uv forks from any of them)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _descendants(pid: int) -> list[int]:
    found = []
    for child in _children(pid):
        found += [child, *_descendants(child)]
    return found
