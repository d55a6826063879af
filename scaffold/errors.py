"""The one error a generator raises on its own: a refusal, said in one line before anything is written;
and a tool run whose failure is one."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path


class Refused(Exception):
    """The command cannot do what was asked; ``str(error)`` says why, in one line."""


def run(command: Sequence[str], cwd: Path, what: str) -> None:
    """``command`` in ``cwd`` with ``cwd`` importable; its failure a refusal naming ``what`` and its last line."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise Refused(f"{what} failed: {output[-1] if output else f'exit status {done.returncode}'}")
