"""Verifying bearer tokens: asymmetric signatures only, then the claims a Keycloak access token has."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any

import msgspec
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwt import JWTClaimsRegistry

from adapters.auth.keys import KeySource
from domain.errors import Unauthenticated
from domain.model import Principal, user_id_from_subject

log = logging.getLogger(__name__)

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


class TokenVerifierConfig(msgspec.Struct, frozen=True):
    """What may change while running (Consul reload) without rebuilding the verifier."""

    audience: str | None = None
    admin_role: str = "admin"
    leeway_seconds: int = 60


class JwtVerifier:
    def __init__(self, keys: KeySource, config: TokenVerifierConfig) -> None:
        self._keys = keys
        self.configure(config)

    def configure(self, config: TokenVerifierConfig) -> None:
        self._config = config
        self._claims = JWTClaimsRegistry(
            leeway=config.leeway_seconds,
            iss={"essential": True, "value": self._keys.issuer},
            sub={"essential": True},
            exp={"essential": True},
        )

    async def verify(self, token: str) -> Principal:
        header = _header(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ASYMMETRIC_ALGORITHMS:
            raise _refuse(f"algorithm {alg!r} is not accepted; only asymmetric signatures are")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _refuse("the token header names no key (kid)")
        key = self._keys.get(kid)
        if key is None and await self._keys.refresh_for(kid):
            key = self._keys.get(kid)
        if key is None:
            raise _refuse("the token is signed with an unknown key")
        declared = key.get("alg")
        if declared is not None and declared != alg:
            raise _refuse(f"the key {kid} is for {declared}, not {alg}")
        try:
            claims = jwt.decode(token, key, algorithms=[alg]).claims
        except BadSignatureError:
            raise _refuse("bad signature") from None
        except JoseError:
            raise _refuse("malformed token") from None
        self._check_claims(claims)
        return self._principal(claims)

    def _check_claims(self, claims: dict[str, Any]) -> None:
        try:
            self._claims.validate(claims)
        except ExpiredTokenError:
            raise _refuse("the token has expired") from None
        except MissingClaimError as exc:
            raise _refuse(f"the token has no {exc.claim} claim") from None
        except InvalidClaimError as exc:
            what = {
                "iss": "wrong issuer",
                "nbf": "the token is not valid yet",
                "iat": "the token is issued in the future",
            }
            raise _refuse(what.get(exc.claim, f"invalid {exc.claim} claim")) from None
        except ClaimError:
            raise _refuse("invalid claims") from None
        typ = claims.get("typ", "Bearer")
        if typ != "Bearer":
            raise _refuse(f"a {typ} token is not an access token")
        audience = self._config.audience
        if audience is not None:
            aud = claims.get("aud")
            auds = aud if isinstance(aud, list) else [aud]
            if audience not in auds and claims.get("azp") != audience:
                raise _refuse("wrong audience")

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        sub = claims["sub"]
        if not isinstance(sub, str) or not sub:
            raise _refuse("invalid sub claim")
        roles = frozenset(_roles(claims.get("realm_access")))
        azp = claims.get("azp")
        resource_access = claims.get("resource_access")
        client = resource_access.get(azp) if isinstance(resource_access, dict) and isinstance(azp, str) else None
        full_name = claims.get("name") or " ".join(
            part for part in (claims.get("given_name"), claims.get("family_name")) if isinstance(part, str) and part
        )
        return Principal(
            id=user_id_from_subject(sub),
            username=_str(claims.get("preferred_username")) or sub,
            full_name=_str(full_name),
            email=_str(claims.get("email")),
            roles=roles,
            client_roles=frozenset(_roles(client)),
            is_admin=self._config.admin_role in roles,
        )


def _header(token: str) -> dict[str, Any]:
    segment = token.split(".", 1)[0]
    try:
        header = msgspec.json.decode(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, msgspec.DecodeError):
        raise _refuse("malformed token") from None
    if not isinstance(header, dict) or token.count(".") != 2:
        raise _refuse("malformed token")
    return header


def _roles(access: object) -> list[str]:
    roles = access.get("roles") if isinstance(access, dict) else None
    return [role for role in roles if isinstance(role, str)] if isinstance(roles, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _refuse(reason: str) -> Unauthenticated:
    log.info("bearer token refused: %s", reason)
    return Unauthenticated(reason)
