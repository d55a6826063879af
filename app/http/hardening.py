"""Hardening that applies to every request: a bound on JSON nesting, and security headers.

msgspec has no nesting-depth option: a deeply nested body makes it raise RecursionError, which
would surface as a 500. The depth is therefore checked before the body is decoded (the size is
bounded by MAX_BODY_BYTES in app/main.py).

``add_security_headers`` puts ``X-Content-Type-Options: nosniff`` on every response, errors and
static files included, and the docs pages' Content-Security-Policy (app/http/docs.py) on those. The
edge (app/http/observe.py) calls it on each response start: one pass over the headers it already
rewrites for the request id, instead of Litestar's response_headers plus a ``before_send`` hook
(two more header merges and a send wrapper per response: ~6 % of a cached GET's CPU).
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from app.http.docs import DOCS_POLICIES
from domain.errors import InvalidInput

MAX_JSON_DEPTH = 32

# A JSON string (skipped: brackets inside it do not nest), or one bracket.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|([\[{])|[\]}]')


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays and objects in ``body`` nest deeper than ``limit``."""
    if body.count(b"[") + body.count(b"{") <= limit:  # the common case: nothing to scan
        return False
    depth = 0
    for token in _TOKENS.finditer(body):
        if token.group(1) is not None:
            depth += 1
            if depth > limit:
                return True
        elif token.group()[0] != 0x22:  # a closing bracket (not a string)
            depth -= 1
    return False


class BoundedRequest(Request[Any, Any, Any]):
    """Refuses a JSON body nested deeper than MAX_JSON_DEPTH with a 400, before decoding it."""

    async def json(self) -> Any:
        if json_too_deep(await self.body()):
            raise InvalidInput("body", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        return await super().json()


_NOSNIFF = (b"x-content-type-options", b"nosniff")
_CSP = b"content-security-policy"
_CSP_BY_PATH = {path: policy.encode() for path, policy in DOCS_POLICIES.items()}


def add_security_headers(path: str, headers: list[tuple[bytes, bytes]]) -> None:
    """Complete a response's ``headers`` in place; ``path`` is the route path, without the prefix."""
    if not any(name.lower() == _NOSNIFF[0] for name, _ in headers):
        headers.append(_NOSNIFF)
    if (policy := _CSP_BY_PATH.get(path)) is not None:
        headers.append((_CSP, policy))
