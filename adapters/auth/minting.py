"""Minting development tokens shaped like Keycloak's access tokens (`just token`)."""

from __future__ import annotations

import time
import uuid

from joserfc import jwt

from adapters.auth.keys import DevKeys

DEV_CLIENT = "dev-cli"
_DEV_SUBJECTS = uuid.UUID("1b671a64-40d5-491e-99b0-da01ff1f3341")


def dev_subject(username: str) -> str:
    """The same username always gets the same user id."""
    return str(uuid.uuid5(_DEV_SUBJECTS, username))


def mint_dev_token(
    keys: DevKeys, username: str, roles: list[str], *, audience: str | None = None, ttl_seconds: int = 3600
) -> str:
    private = keys.load()
    now = int(time.time())
    claims = {
        "iss": keys.issuer,
        "sub": dev_subject(username),
        "aud": audience or "account",
        "azp": DEV_CLIENT,
        "typ": "Bearer",
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": str(uuid.uuid4()),
        "preferred_username": username,
        "name": username.title(),
        "email": f"{username}@example.test",
        "realm_access": {"roles": roles},
    }
    return jwt.encode({"alg": "RS256", "kid": private.kid, "typ": "JWT"}, claims, private)
