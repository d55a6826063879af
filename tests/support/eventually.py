"""Waiting for something a background task does, with a deadline instead of a sleep or a timing assert."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

import pytest


async def eventually(check: Callable[[], bool | Awaitable[bool]], what: str, timeout: float = 15.0) -> None:
    """Poll ``check`` (sync or async) until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if await result if inspect.isawaitable(result) else result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.02)


def log_count(caplog: pytest.LogCaptureFixture, level: int, *parts: str) -> int:
    """How many records at ``level`` contain every one of ``parts``."""
    return sum(1 for r in caplog.records if r.levelno == level and all(p in r.getMessage() for p in parts))
