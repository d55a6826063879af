"""CORS with origins that can change while running (``CORS_ORIGINS``, e.g. from a Consul reload).

Litestar's own CORS middleware does the work; ``CorsPolicy`` holds its config, which
``apply(origins)`` swaps atomically. With no origins the layer passes requests straight through.
Browsers let scripts read only the response headers CORS exposes: ``ETag`` (for If-Match and
If-None-Match) and ``Location`` (where a new resource lives) are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from litestar.config.cors import CORSConfig
from litestar.middleware._internal.cors import CORSMiddleware

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send


EXPOSED = ["ETag", "Location"]


class CorsPolicy:
    def __init__(self, origins: Sequence[str]) -> None:
        self.config: CORSConfig | None = None
        self.apply(origins)

    def apply(self, origins: Sequence[str]) -> None:
        self.config = CORSConfig(allow_origins=list(origins), expose_headers=EXPOSED) if origins else None


class LiveCORSMiddleware:
    """Sits where Litestar puts its CORS middleware (inside the app, around the router)."""

    def __init__(self, app: ASGIApp, policy: CorsPolicy) -> None:
        self._app = app
        self._policy = policy
        self._cors: CORSMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        config = self._policy.config
        if config is None:
            await self._app(scope, receive, send)
            return
        cors = self._cors
        if cors is None or cors.config is not config:
            cors = self._cors = CORSMiddleware(app=self._app, config=config)
        await cors(scope, receive, send)
