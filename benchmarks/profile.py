"""Where a worker's time goes: py-spy's collapsed stacks, summed per function.

`uv run just bench --profile [--only get_post]` records the service's Granian worker with
py-spy while wrk loads it, and prints the top entries of each scenario:
- "self": samples where the function itself was running (what to make cheaper);
- "total": samples where it was anywhere on the stack (what to avoid calling).
Percentages are of the samples where the worker was running Python (idle waits are left out);
stacks are cut below the event loop's dispatch (Handle._run), so "total" starts at the task.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

# Frames that only say "a thread is waiting": not work, left out.
_IDLE_LEAVES = ("Condition.wait (", "Queue.get (")
# Everything from the process start to the event loop's dispatch is the same in every sample.
_DISPATCH = ("Handle._run (asyncio/events.py)", "BaseEventLoop._run_once (asyncio/base_events.py)")
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>.*?)(?::\d+)?\)$")


def _short(file: str) -> str:
    for marker in ("site-packages/", "/lib/python3.13/", "/wt/issue-6/"):
        if marker in file:
            return file.split(marker, 1)[1]
    parts = Path(file).parts
    return "/".join(parts[-2:]) if len(parts) > 1 else file


def _name(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    return f"{match['function']} ({_short(match['file'])})"


def summarize(collapsed: str, top: int = 15) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    """(samples, top by self share, top by total share) from py-spy's raw (collapsed) output."""
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
        "| self | function | | total | function |",
        "| ---: | --- | - | ---: | --- |",
    ]
    for (own_name, own_share), (total_name, total_share) in zip(own, total, strict=False):
        lines.append(f"| {own_share:.1%} | `{own_name}` | | {total_share:.1%} | `{total_name}` |")
    return "\n".join(lines) + "\n"


def record(pid: int, seconds: int, out: Path, rate: int = 200) -> subprocess.Popen[bytes]:
    """Start py-spy on ``pid`` for ``seconds``; the caller waits for the returned process."""
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        raise RuntimeError("py-spy is missing: `uv sync` installs it (a dev dependency)")
    argv = [py_spy, "record", "-p", str(pid), "-d", str(seconds), "-r", str(rate), "-f", "raw", "-o", str(out)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
