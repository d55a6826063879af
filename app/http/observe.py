"""The outermost ASGI layer (the edge): a request id, security headers, the HTTP semantics Litestar
leaves to us (HEAD, Allow, conditional GET: app/http/semantics.py), one access log line, and the
request metrics.

It wraps everything, the SERVICE_PREFIX 404s included, so every HTTP request is counted once and
every response carries the headers (app/http/hardening.py says which). It is one pass, on the raw
ASGI scope and messages, because it runs on every request: a GET without If-None-Match pays two
header-name comparisons per request header and two comparisons per response for the semantics.

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
from app.http.semantics import Allow, not_modified
from app.logging import REQUEST_ID, log_access, request_id_for

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Send

    from app.metrics import Metrics

REQUEST_ID_HEADER = b"x-request-id"
IF_NONE_MATCH = b"if-none-match"
UNMATCHED = "unmatched"
_CONVERTER = re.compile(r":[a-z]+}")


class RouteTemplates:
    """The matched route's template without its converters (``/v1/posts/{post_id:str}`` ->
    ``/v1/posts/{post_id}``), from the ``path_template`` Litestar's router sets on a match; None when
    no route matched. Worked out once per route: the edge and the tracing span both name requests so."""

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def __call__(self, scope: Any) -> str | None:
        raw: str | None = scope.get("path_template")
        if raw is None:
            return None
        template = self._known.get(raw)
        if template is None:
            template = self._known[raw] = _CONVERTER.sub("}", raw)
        return template


def read_headers(headers: Any) -> tuple[str, bytes | None]:
    """The request id (the client's X-Request-ID when valid, else a fresh one) and If-None-Match,
    in one pass over the request's headers."""
    request_id: str | None = None
    if_none_match: bytes | None = None
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            if request_id is None:
                request_id = request_id_for(value.decode("latin-1"))
        elif name == IF_NONE_MATCH:
            if_none_match = value if if_none_match is None else if_none_match + b", " + value
    return request_id or request_id_for(None), if_none_match


class RequestObserver:
    def __init__(self, app: ASGIApp, metrics: Metrics | None = None, allow: Allow | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.allow = allow or Allow(())
        self._route = RouteTemplates()

    def _template(self, scope: Any) -> str:
        return self._route(scope) or UNMATCHED

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, if_none_match = read_headers(scope["headers"])
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        status = 500  # what the client gets if the app fails before answering
        method = scope["method"]
        bodiless = method == "HEAD"
        if bodiless:
            scope["method"] = "GET"  # routed, authorized and answered as the GET, then sent without the body
        elif method != "GET":
            if_none_match = None  # on a write it is a precondition, not a cache revalidation

        async def send_with_id(message: Message) -> None:
            nonlocal status, bodiless
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), header]
                add_security_headers(scope["path"], headers)  # the route path: Litestar cut the prefix
                if if_none_match is not None and status == 200:
                    revalidated = not_modified(if_none_match, headers)
                    if revalidated is not None:
                        status, headers, bodiless = 304, revalidated, True
                        message["status"] = 304
                elif status == 405 or (method == "OPTIONS" and status < 300):
                    self.allow.complete(self._template(scope), headers)
                message["headers"] = headers
            elif bodiless:
                if message.get("more_body", False):
                    return  # the rest of the body is dropped; the last message ends the response
                message = {"type": "http.response.body", "body": b"", "more_body": False}
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
