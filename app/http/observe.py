"""The outermost ASGI layer (the edge): a request id, security headers, one access log line, and
the request metrics.

It wraps everything, the SERVICE_PREFIX 404s included, so every HTTP request is counted once and
every response carries the headers (app/http/hardening.py says which).

- Request id: the client's ``X-Request-ID`` when app.logging.request_id_for accepts it, otherwise a
  fresh random one. It is returned in the ``X-Request-ID`` response header and bound to every log
  line of the request.
- Access log (logger ``app.access``, event ``request``): ``method``, ``path`` (the route template,
  e.g. ``/v1/posts/{post_id}``, so no ids or tokens from the URL reach the logs; ``unmatched``
  when no route matched), ``status``, ``duration_ms``, ``request_id``.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from app.http.hardening import add_security_headers
from app.logging import REQUEST_ID, log_access, request_id_for

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Send

    from app.metrics import Metrics

REQUEST_ID_HEADER = b"x-request-id"
UNMATCHED = "unmatched"
_CONVERTER = re.compile(r":[a-z]+}")


def request_id_from(headers: Any) -> str:
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            return request_id_for(value.decode("latin-1"))
    return request_id_for(None)


class RequestObserver:
    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self._templates: dict[str, str] = {}

    def _template(self, scope: Any) -> str:
        raw: str | None = scope.get("path_template")  # set by Litestar's router on a match
        if raw is None:
            return UNMATCHED
        template = self._templates.get(raw)
        if template is None:  # "/v1/posts/{post_id:str}" -> "/v1/posts/{post_id}", once per route
            template = self._templates[raw] = _CONVERTER.sub("}", raw)
        return template

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope["headers"])
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        status = 500  # what the client gets if the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), header]
                add_security_headers(scope["path"], headers)  # the route path: Litestar cut the prefix
                message["headers"] = headers
            await send(message)

        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            method, route = scope["method"], self._template(scope)
            log_access(
                method=method, path=route, status=status, duration_ms=round(elapsed * 1000, 3), request_id=request_id
            )
            if self.metrics is not None:
                self.metrics.observe_request(method, route, status, elapsed)
            REQUEST_ID.reset(token)
