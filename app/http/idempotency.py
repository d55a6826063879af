"""`Idempotency-Key` on the creates: the header, the request's fingerprint, and the answer kept for retries.

The rule (a retry gets the first answer and creates nothing) is the use case's (domain/idempotency.py,
``replay`` and ``keep_answer`` in domain/use_cases/steps.py). What the edge adds: the header (1–255
printable ASCII, else a 400) and its place in the OpenAPI document, the fingerprint of the request
(its method, route and body bytes), and the answer as bytes: the response is rendered once, kept
with the key in the create's unit of work, and the first client and every retry get those same
bytes. A create without the header takes none of this: no body hash, no extra statement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar import MediaType, Request, Response
from litestar.openapi.spec import OpenAPIType, Operation, Parameter, Schema
from litestar.types import Scope

from domain.idempotency import KEY_FIELD, KEY_MAX_LENGTH, Answer, Idempotent, clean_key

_NAME = KEY_FIELD.lower().encode()


def idempotency_key(scope: Scope) -> str | None:
    """The request's ``Idempotency-Key``, or None; a malformed one (or two) is bad input (400). Read
    straight from the ASGI scope, as the bearer token is (app/http/auth.py), rather than declared as
    a handler parameter: Litestar would parse and validate headers on every create for a header most
    creates do not send (``IdempotentCreate`` documents it instead)."""
    found: str | None = None
    for name, value in scope["headers"]:
        if name == _NAME:
            found = clean_key(value.decode("latin-1") if found is None else "")  # two are one too many
    return found


@dataclass
class IdempotentCreate(Operation):
    """The operation of a create that takes an ``Idempotency-Key``: the header's parameter in the document."""

    def __post_init__(self) -> None:
        key = Parameter(
            name=KEY_FIELD,
            param_in="header",
            required=False,
            schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=KEY_MAX_LENGTH, pattern=r"^[\x20-\x7E]+$"),
            description=(
                "Makes a retry safe: a unique value of yours (e.g. a UUID), 1–255 printable ASCII characters. "
                "Repeating the request with the same key and the same body within 24 hours answers what the "
                "first request was answered (status, body, Location, ETag) and creates nothing; the same key "
                "with another body is a 422, and a repeat while the first request still runs a 409"
            ),
        )
        self.parameters = [*(self.parameters or ()), key]


async def idempotent[T](
    request: Request[Any, Any, Any], key: str, respond: Callable[[T], Response[Any]]
) -> Idempotent[T]:
    """The create ``request`` sent with ``key``; ``respond`` is how the handler answers a created ``T``."""
    hashed = hashlib.sha256(f"{request.method} {request.scope['path_template']}\n".encode())
    hashed.update(await request.body())  # read already, to decode the body: cached
    return Idempotent(key, hashed.digest(), lambda created: answer_of(respond(created)))


def answer_of(response: Response[Any]) -> Answer:
    """A JSON response as the client will receive it: its status, headers and body bytes."""
    return Answer(
        response.status_code or 200, dict(response.headers), response.render(response.content, MediaType.JSON)
    )


def replayed(answer: Answer) -> Response[Any]:
    """The kept answer, byte for byte: to the first request and to every retry alike. (``Any``: the
    handler still declares what the bytes hold, e.g. ``Response[PostOut]``, for the document.)"""
    return Response(answer.body, status_code=answer.status, headers=answer.headers, media_type=MediaType.JSON)
