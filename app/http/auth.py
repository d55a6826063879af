"""Bearer authentication: verifies the token and puts the Principal on the connection.

A plain ASGI middleware on the /v1 router rather than a Litestar guard: Litestar copies the route
handler for every guard call, which cost more than a cached token check (benchmarks/README.md).
It reads the header straight from the ASGI scope. An ``Unauthenticated`` raised here reaches the
app's exception handlers like any other (a 401 problem with ``WWW-Authenticate``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from app import bearer
from domain.errors import InvalidInput
from domain.model import Principal
from domain.ports import TokenVerifier


class BearerAuth:
    def __init__(self, app: ASGIApp, verifier: TokenVerifier) -> None:
        self.app = app
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            scope["user"] = await self.verifier.verify(bearer_token(scope))
        await self.app(scope, receive, send)


def bearer_token(scope: Scope) -> str:
    """The bearer token of the request. Two Authorization fields are bad input (400), whichever
    they hold: picking one would let whatever sits in front of us disagree about who is calling."""
    found: bytes | None = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            if found is not None:  # which one would be the caller? Neither: refuse, never pick the first
                raise InvalidInput("Authorization", bearer.SENT_TWICE)
            found = value
    return bearer.bearer_token(None if found is None else found.decode("latin-1"))


def bearer_auth(verifier: TokenVerifier) -> Callable[[ASGIApp], ASGIApp]:
    # A closure, not DefineMiddleware(BearerAuth, verifier=...): Litestar deep-copies a Router when
    # it registers it, middleware arguments included, and a copied verifier (with its key source and
    # token cache) would miss key refreshes and live configuration changes.
    def middleware(app: ASGIApp) -> ASGIApp:
        return BearerAuth(app, verifier)

    return middleware


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user: Principal = connection.scope["user"]
    return user
