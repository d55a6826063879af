"""Verifying bearer tokens: asymmetric signatures only, then the claims a Keycloak access token has.

The hot path is a few dict lookups, one signature check (``cryptography``, through joserfc's
algorithm models) and one JSON decode: keys come parsed from the key source, the per-algorithm
JWS registries are built once, and no I/O happens unless a token names a key we do not know
(then the key source may refetch, rate-limited). Every refusal is an ``Unauthenticated`` whose
detail says which check failed; it is logged at INFO, never with the token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import CompactSignature, JWSRegistry, extract_compact, validate_compact

from adapters.auth.keys import KeySource, PublicKey
from domain.errors import Unauthenticated
from domain.model import Principal, user_id_from_subject

log = logging.getLogger(__name__)

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# One registry per algorithm, each allowing only that algorithm: built once, not per token.
_REGISTRIES = {alg: JWSRegistry(algorithms=[alg]) for alg in ASYMMETRIC_ALGORITHMS}
_EC_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
_NUMBER = (int, float)


class TokenVerifierConfig(msgspec.Struct, frozen=True):
    """What may change while running (Consul reload) without rebuilding the verifier."""

    audience: str | None = None
    admin_role: str = "admin"
    leeway_seconds: int = 60


class JwtVerifier:
    def __init__(self, keys: KeySource, config: TokenVerifierConfig, *, clock: Callable[[], float] = time.time) -> None:
        self._keys = keys
        self._issuer = keys.issuer
        self._clock = clock
        self.configure(config)

    def configure(self, config: TokenVerifierConfig) -> None:
        self._config = config

    async def verify(self, token: str) -> Principal:
        signed = _extract(token)
        header = signed.headers()
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ASYMMETRIC_ALGORITHMS:
            raise _refuse(f"algorithm {str(alg)[:32]!r} is not accepted; only asymmetric signatures are")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _refuse("the token header names no key (kid)")
        key = self._keys.get(kid)
        if key is None and await self._keys.refresh_for(kid):
            key = self._keys.get(kid)
        if key is None:
            raise _refuse("the token is signed with an unknown key")
        _check_algorithm(key, kid, alg)
        try:
            valid = validate_compact(signed, key, registry=_REGISTRIES[alg])
        except JoseError:
            raise _refuse("malformed token") from None
        if not valid:
            raise _refuse("bad signature")
        try:
            claims = msgspec.json.decode(signed.payload)
        except msgspec.DecodeError:
            raise _refuse("malformed token: the payload is not JSON") from None
        if not isinstance(claims, dict):
            raise _refuse("malformed token: the payload is not a JSON object")
        self._check_claims(claims)
        return self._principal(claims)

    def _check_claims(self, claims: Mapping[str, Any]) -> None:
        iss = claims.get("iss")
        if iss is None:
            raise _refuse("the token has no iss claim")
        if iss != self._issuer:
            raise _refuse("wrong issuer")
        sub = claims.get("sub")
        if sub is None:
            raise _refuse("the token has no sub claim")
        if not isinstance(sub, str) or not sub:
            raise _refuse("invalid sub claim")
        now = self._clock()
        leeway = self._config.leeway_seconds
        exp = _time_claim(claims, "exp", required=True)
        if exp is not None and now - leeway >= exp:
            raise _refuse("the token has expired")
        nbf = _time_claim(claims, "nbf")
        if nbf is not None and now + leeway < nbf:
            raise _refuse("the token is not valid yet (nbf)")
        iat = _time_claim(claims, "iat")
        if iat is not None and now + leeway < iat:
            raise _refuse("the token is issued in the future (iat)")
        typ = claims.get("typ", "Bearer")
        if typ != "Bearer":
            raise _refuse(f"typ {str(typ)[:32]!r}: not an access token (Bearer)")
        audience = self._config.audience
        if audience is not None:
            aud = claims.get("aud")
            auds = aud if isinstance(aud, list) else [aud]
            if audience not in auds and claims.get("azp") != audience:
                raise _refuse("wrong audience")

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        sub: str = claims["sub"]
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


def _extract(token: str) -> CompactSignature:
    try:
        signed = extract_compact(token.encode())
    except (JoseError, ValueError, UnicodeError):
        raise _refuse("malformed token") from None
    if not isinstance(signed.headers(), dict):
        raise _refuse("malformed token")
    return signed


def _check_algorithm(key: PublicKey, kid: str, alg: str) -> None:
    """Only the algorithm the key declares; a key that declares none, only its own family."""
    declared = key.get("alg")
    if declared is not None:
        if declared != alg:
            raise _refuse(f"the key {kid[:64]} is for {str(declared)[:32]}, not {alg}")
        return
    if isinstance(key, RSAKey):
        fits = alg[:2] in ("RS", "PS")
    elif isinstance(key, ECKey):
        fits = _EC_CURVES.get(alg) == key.get("crv")
    elif isinstance(key, OKPKey):
        fits = alg == "EdDSA" and key.get("crv") in ("Ed25519", "Ed448")
    else:
        fits = False
    if not fits:
        raise _refuse(f"the key {kid[:64]} cannot verify {alg}")


def _time_claim(claims: Mapping[str, Any], name: str, *, required: bool = False) -> float | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise _refuse(f"the token has no {name} claim")
        return None
    if type(value) not in _NUMBER:  # bool is an int in Python, and never a time
        raise _refuse(f"invalid {name} claim")
    return value  # type: ignore[no-any-return]


def _roles(access: object) -> list[str]:
    roles = access.get("roles") if isinstance(access, dict) else None
    return [role for role in roles if isinstance(role, str)] if isinstance(roles, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _refuse(reason: str) -> Unauthenticated:
    log.info("bearer token refused: %s", reason)
    return Unauthenticated(reason)
