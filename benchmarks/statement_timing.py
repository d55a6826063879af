"""How long one SQL statement takes on a warm connection, timed the same way by every benchmark of a
single statement (deep_pages, editable, totals)."""

from __future__ import annotations

import statistics
import time

import asyncpg


async def statement_ms(connection: asyncpg.Connection, sql: str, *args: object, calls: int, warmup: int = 20) -> float:
    """The median milliseconds of a call, after ``warmup`` calls that warm the plan and the cache (a load
    spike on a shared machine moves the mean, not the median)."""
    for _ in range(warmup):
        await connection.fetch(sql, *args)
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        await connection.fetch(sql, *args)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)
