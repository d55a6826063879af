"""The bearer guard: verifies the token and puts the Principal on the connection."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from domain.errors import Unauthenticated
from domain.model import Principal
from domain.ports import TokenVerifier


def bearer_guard(verifier: TokenVerifier):  # type: ignore[no-untyped-def]
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        header = connection.headers.get("authorization")
        if not header:
            raise Unauthenticated("missing bearer token")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("malformed Authorization header; expected 'Bearer <token>'")
        connection.scope["user"] = await verifier.verify(token)

    return guard


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user: Principal = connection.scope["user"]
    return user
