"""Hardening that applies to every request: what a JSON body must be, and security headers.

A body is decoded only when its ``Content-Type`` says JSON (``application/json`` or any
``*/*+json``, parameters such as ``charset`` allowed), else 415; bytes that are not UTF-8 are a
400, as msgspec raises a bare UnicodeDecodeError for them (a 500 otherwise). msgspec has no
nesting-depth option either: a deeply nested body makes it raise RecursionError, so the depth is
checked before the body is decoded (the size is bounded by MAX_BODY_BYTES in app/main.py).

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
from litestar.exceptions import HTTPException
from litestar.types import Scope

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


def is_json(content_type: bytes) -> bool:
    """``application/json`` or a ``+json`` structured syntax suffix (RFC 6839), parameters ignored."""
    kind, slash, subtype = content_type.partition(b";")[0].strip().lower().partition(b"/")
    if not (kind and slash):
        return False
    return (kind == b"application" and subtype == b"json") or (len(subtype) > 5 and subtype.endswith(b"+json"))


def require_json(scope: Scope) -> None:
    """415 unless the request says its body is JSON."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            if is_json(value):
                return
            break
    raise HTTPException(status_code=415, detail="the body must be JSON: send Content-Type: application/json")


NOT_UTF8 = "not UTF-8: JSON text must be UTF-8 (RFC 8259)"


class BoundedRequest(Request[Any, Any, Any]):
    """The body of a JSON route: declared JSON (else 415), nested at most MAX_JSON_DEPTH deep and
    UTF-8 (else 400), checked before or while it is decoded."""

    async def json(self) -> Any:
        require_json(self.scope)
        if json_too_deep(await self.body()):
            raise InvalidInput("body", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            return await super().json()
        except UnicodeDecodeError:
            raise InvalidInput("body", NOT_UTF8) from None


_NOSNIFF = (b"x-content-type-options", b"nosniff")
_CSP = b"content-security-policy"
_CSP_BY_PATH = {path: policy.encode() for path, policy in DOCS_POLICIES.items()}


def add_security_headers(path: str, headers: list[tuple[bytes, bytes]]) -> None:
    """Complete a response's ``headers`` in place; ``path`` is the route path, without the prefix."""
    if not any(name.lower() == _NOSNIFF[0] for name, _ in headers):
        headers.append(_NOSNIFF)
    if (policy := _CSP_BY_PATH.get(path)) is not None:
        headers.append((_CSP, policy))
