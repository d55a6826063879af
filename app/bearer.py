"""The bearer scheme (RFC 6750) for every delivery mechanism: the token in ``Bearer <token>``.

HTTP reads the value from the ``Authorization`` header (app/http/auth.py), gRPC from the
``authorization`` metadata (app/grpc/interceptors.py); the token verifier does the rest.
"""

from __future__ import annotations

from domain.errors import InvalidInput, Unauthenticated

SENT_TWICE = "sent more than once; send exactly one bearer token"


def bearer_token(credentials: str | None) -> str:
    """The token of an ``Authorization`` value, or ``Unauthenticated`` saying what is wrong with it."""
    if credentials is None:
        raise Unauthenticated("missing bearer token")
    scheme, _, token = credentials.partition(" ")
    token = token.strip()
    if "," in token:  # no token has a comma: two Authorization fields that a client or proxy joined
        raise InvalidInput("Authorization", SENT_TWICE)
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("malformed Authorization header; expected 'Bearer <token>'")
    return token
