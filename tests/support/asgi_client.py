"""The app on the test's own event loop, for tests that need requests truly in flight together.

Litestar's AsyncTestClient runs each request to completion through a blocking portal, so
``asyncio.gather`` over it sends one request at a time, and a request that waits on the
database blocks the test too. Here the app runs its lifespan (pool, migrations) on the test's
loop and httpx's ASGI transport interleaves requests as a server would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from litestar import Litestar


@asynccontextmanager
async def concurrent_client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as client,
    ):
        yield client
