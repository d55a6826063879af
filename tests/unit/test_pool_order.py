"""Waiters for a pooled connection are served in arrival order (adapters/db/pool.py).

The stand-in pool hands out connections from an asyncio.Queue, as asyncpg's does: a waiter woken
for a released connection can lose it to a task that runs first, and then queues again at the
back. The first test shows that happening to the bare pool; the second, that it does not
through the app's wrapper.
"""

from __future__ import annotations

import asyncio

from adapters.db.pool import BoundedPool


class QueuePool:
    def __init__(self, size: int) -> None:
        self.size = size
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        for n in range(size):
            self.queue.put_nowait(f"connection {n}")

    def get_max_size(self) -> int:
        return self.size

    async def acquire(self) -> str:
        return await self.queue.get()

    async def release(self, connection: str, *, timeout: float | None = None) -> None:
        self.queue.put_nowait(connection)


async def served_order(pool, acquire) -> list[str]:  # type: ignore[no-untyped-def]
    served: list[str] = []

    async def use(name: str) -> None:
        connection = await acquire()
        served.append(name)
        await asyncio.sleep(0)
        await pool.release(connection)

    holder = await acquire()
    waiters = [asyncio.create_task(use(name)) for name in ("first", "second")]
    for _ in range(3):
        await asyncio.sleep(0)  # both are waiting now
    newcomer = asyncio.create_task(use("newcomer"))  # ready to run when the connection comes back
    await pool.release(holder)
    await asyncio.wait_for(asyncio.gather(*waiters, newcomer), timeout=5)
    return served


async def test_the_bare_queue_lets_a_newcomer_cut_in():
    pool = QueuePool(1)
    assert await served_order(pool, pool.acquire) == ["newcomer", "second", "first"]


async def test_the_wrapper_serves_waiters_first_come_first_served():
    pool = BoundedPool(QueuePool(1), acquire_timeout=5, request_timeout=5)  # type: ignore[arg-type]
    assert await served_order(pool, pool.acquire) == ["first", "second", "newcomer"]
