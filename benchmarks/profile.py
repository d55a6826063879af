"""Where a worker's time goes: py-spy's collapsed stacks, summed per function.

`uv run just bench --profile [--only get_post]` records the service's Granian worker with
py-spy while wrk loads it, and prints the top entries of each scenario:
- "self": samples where the function itself was running (what to make cheaper);
- "total": samples where one of our functions (app/, domain/, adapters/) was anywhere on the
  stack: where our code spends, including what it calls.
Percentages are of the samples where the worker was running Python (idle waits are left out);
stacks are cut below the event loop's dispatch (Handle._run), so "total" starts at the task.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sysconfig
from collections import Counter
from pathlib import Path

# Frames that only say "a thread is waiting": not work, left out.
_IDLE_LEAVES = ("Condition.wait (", "Queue.get (")
# Everything from the process start to the event loop's dispatch is the same in every sample.
_DISPATCH = ("Handle._run (asyncio/events.py)", "BaseEventLoop._run_once (asyncio/base_events.py)")
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>.*?)(?::\d+)?\)$")


_PREFIXES = ("site-packages/", sysconfig.get_paths()["stdlib"] + "/", str(Path(__file__).resolve().parent.parent) + "/")


def _short(file: str) -> str:
    for marker in _PREFIXES:
        if marker in file:
            return file.split(marker, 1)[1]
    if not file.startswith("/"):
        return file  # py-spy already made it relative to the working directory
    parts = Path(file).parts
    return "/".join(parts[-2:]) if len(parts) > 1 else file


def _name(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    return f"{match['function']} ({_short(match['file'])})"


_OURS = ("(app/", "(domain/", "(adapters/")


def summarize(collapsed: str, top: int = 15) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    """(samples, top by self share, top of our own functions by total share) from py-spy's raw output."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_name(frame) for frame in stack.split(";") if not frame.startswith(("process ", "thread "))]
        if not frames or frames[-1].startswith(_IDLE_LEAVES):
            continue
        for dispatch in _DISPATCH:
            if dispatch in frames[:-1]:
                frames = frames[len(frames) - frames[::-1].index(dispatch) :]
                break
        samples += count
        own[frames[-1]] += count
        for name in set(frames):
            if any(marker in name for marker in _OURS):
                total[name] += count
    if not samples:
        return 0, [], []
    return (
        samples,
        [(name, n / samples) for name, n in own.most_common(top)],
        [(name, n / samples) for name, n in total.most_common(top)],
    )


def format_summary(title: str, collapsed: str, top: int = 15) -> str:
    samples, own, total = summarize(collapsed, top)
    lines = [
        f"### {title} ({samples} samples)",
        "",
        "| self | function | | total | our function |",
        "| ---: | --- | - | ---: | --- |",
    ]
    for i in range(max(len(own), len(total))):
        left = f"{own[i][1]:.1%} | `{own[i][0]}`" if i < len(own) else " | "
        right = f"{total[i][1]:.1%} | `{total[i][0]}`" if i < len(total) else " | "
        lines.append(f"| {left} | | {right} |")
    return "\n".join(lines) + "\n"


def record(pid: int, seconds: int, out: Path, rate: int = 200) -> subprocess.Popen[bytes]:
    """Start py-spy on ``pid`` for ``seconds``; the caller waits for the returned process."""
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        raise RuntimeError("py-spy is missing: `uv sync` installs it (a dev dependency)")
    argv = [py_spy, "record", "-p", str(pid), "-d", str(seconds), "-r", str(rate), "-f", "raw", "-o", str(out)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
