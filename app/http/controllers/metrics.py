from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler

from app.maintenance import EXEMPT
from app.metrics import Metrics


def metrics_route(metrics: Metrics) -> HTTPRouteHandler:
    """``GET /metrics`` (registered only with METRICS_ENABLED=true): no token, not in maintenance."""

    @get("/metrics", name="metrics", include_in_schema=False, opt={EXEMPT: True}, cache_control=None)
    async def scrape(request: Request[Any, Any, Any]) -> Response[bytes]:
        body, content_type = await metrics.render(request.headers.get("accept"))
        # Litestar appends the charset to text/* types itself.
        return Response(body, media_type=content_type.removesuffix("; charset=utf-8"))

    return scrape
