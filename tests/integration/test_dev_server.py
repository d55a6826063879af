"""`uv run just dev` stops whole: SIGTERM to the command (what an IDE, a supervisor or `kill` sends to
the process it started) stops Granian's reloader and its worker too, and frees the port. Ctrl-C
reaches every process of the terminal's group at once; SIGTERM reaches only the one it is sent to,
so each process in the chain must pass it on (uv and just do; the recipe's shell did not).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support.servers import REPO_ROOT, _descendants, free_port

pytestmark = pytest.mark.slow

READY_WITHIN_SECONDS = 90.0  # hang guards, not timing assertions
GONE_WITHIN_SECONDS = 30.0


def _cmdline(pid: int) -> bytes | None:
    """The command line of a running process (None once it is gone, or a zombie)."""
    try:
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] == "Z":
            return None
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None


def _still_running(started: dict[int, bytes]) -> dict[int, bytes]:
    return {pid: line for pid, line in started.items() if _cmdline(pid) == line}


def _track(started: dict[int, bytes], root: int) -> None:
    """Add what ``root`` and the processes already seen have started since (a respawned worker)."""
    for parent in [root, *_still_running(started)]:
        for pid in _descendants(parent):
            if pid not in started and (line := _cmdline(pid)) is not None:
                started[pid] = line


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# The content of a watched file is left alone: its modification time is enough for the reloader.
WATCHED = REPO_ROOT / "app" / "http" / "semantics.py"


@pytest.mark.parametrize("stop", ["SIGTERM to uv", "Ctrl-C", "SIGTERM to uv during a reload"])
def test_stopping_uv_run_just_dev_stops_the_reloader_and_its_worker(tmp_path: Path, stop: str) -> None:
    uv = shutil.which("uv")
    assert uv is not None, "uv is not on PATH"
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "ENV_FILE": "/nonexistent",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}",
        "VAR_DIR": str(tmp_path / "var"),
    }
    log = (tmp_path / "dev.log").open("wb")
    # A process group of its own, so that nothing here signals the test runner's group; the
    # signal itself goes to uv's pid only.
    dev = subprocess.Popen(
        [uv, "run", "just", "dev"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    started: dict[int, bytes] = {}  # pid -> command line, so that a reused pid is never mistaken for ours
    try:
        give_up = time.monotonic() + READY_WITHIN_SECONDS
        while True:
            assert dev.poll() is None, (tmp_path / "dev.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < give_up, (tmp_path / "dev.log").read_text()
            time.sleep(0.2)
        _track(started, dev.pid)
        assert any(b"granian" in line for line in started.values()), started

        if stop == "Ctrl-C":  # the terminal sends SIGINT to its whole foreground group
            os.killpg(dev.pid, signal.SIGINT)
        else:
            if stop.endswith("during a reload"):
                # A worker told to stop while it is still starting misses the signal; without
                # --workers-kill-timeout the reloader then waits for it forever.
                os.utime(WATCHED)
                time.sleep(0.6)  # the reloader has noticed, and the new worker is starting
                _track(started, dev.pid)
            dev.send_signal(signal.SIGTERM)
        dev.wait(timeout=GONE_WITHIN_SECONDS)
        give_up = time.monotonic() + GONE_WITHIN_SECONDS
        while _still_running(started) and time.monotonic() < give_up:
            _track(started, dev.pid)
            time.sleep(0.1)
        assert not _still_running(started), (
            f"still running after SIGTERM to `uv run just dev`: {_still_running(started)}"
        )
        assert _port_free(port)
    finally:
        for pid in _still_running(started):  # only what this test started, by pid
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if dev.poll() is None:
            dev.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            dev.wait(timeout=10)
        log.close()
