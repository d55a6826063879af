"""HTTP semantics Litestar leaves to us (RFC 9110), applied by the edge (app/http/observe.py) in the
pass it already makes over each request's headers and each response start:

- ``HEAD`` wherever ``GET`` works: the request is routed as a GET and answered without its body
  (same status and headers, ``Content-Length`` included). Load balancers probe health with it.
- ``Allow`` on ``OPTIONS`` and on every 405 lists every method of the path, ``HEAD`` with ``GET``.
  Litestar's automatic OPTIONS answer names only the methods of the handler group it was made for
  (``OPTIONS /v1/posts/{id}`` said ``DELETE, OPTIONS``), so the edge answers from the app's routes.
- Conditional GET: a GET or HEAD whose ``If-None-Match`` names the ``ETag`` of the 200 it would get
  answers 304 with that ``ETag`` and no body (RFC 9110 §13.1.2, weak comparison). It applies to
  whatever answers 200 with an ETag (posts, comments, users), and costs nothing without the header.

Bodies (415 for a non-JSON Content-Type, 400 for bytes that are not UTF-8) are checked where they
are decoded, app/http/hardening.py; If-Match, by the use case on the locked row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from app.http.conditional import none_match

ALLOW = b"allow"
ETAG = b"etag"
# A 304 carries the validators and caching fields of the 200 it stands for, not its content's.
_CONTENT_FIELDS = frozenset({b"content-type", b"content-length", b"content-encoding"})


def allow_value(methods: Iterable[str]) -> bytes:
    names = {method.upper() for method in methods} | {"OPTIONS"}
    if "GET" in names:
        names.add("HEAD")
    return ", ".join(sorted(names)).encode("ascii")


class Allow:
    """The ``Allow`` value of every route path, from the app's routes (read once), by the path's
    template without converters (``/v1/posts/{post_id}``), as the edge names routes in its logs."""

    def __init__(self, routes: Iterable[Any]) -> None:
        methods: dict[str, set[str]] = defaultdict(set)
        for route in routes:
            methods[route.path_format].update(getattr(route, "methods", ()))
        self._by_path = {path: allow_value(names) for path, names in methods.items() if names}

    def complete(self, template: str, headers: list[tuple[bytes, bytes]]) -> None:
        """Replace the response's Allow, in place, by every method of the path: the routed path's when
        the router matched one (OPTIONS), else what the router's 405 listed, with HEAD beside GET."""
        listed = b""
        for index in range(len(headers) - 1, -1, -1):
            if headers[index][0].lower() == ALLOW:
                listed = headers.pop(index)[1]
        value = self._by_path.get(template)
        if value is None:
            value = allow_value(method.strip().decode("latin-1") for method in listed.split(b",") if method.strip())
        headers.append((ALLOW, value))


def not_modified(if_none_match: bytes, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]] | None:
    """The headers of a 304 for a 200 with these ``headers``, or None when If-None-Match does not
    name its ETag (the 200 goes out as it is)."""
    current = next((value for name, value in headers if name.lower() == ETAG), None)
    if not none_match(if_none_match, current):
        return None
    return [(name, value) for name, value in headers if name.lower() not in _CONTENT_FIELDS]
