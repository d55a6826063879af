"""A Keycloak-shaped OpenID Connect issuer for tests.

It serves a realm's discovery document and JSON Web Key Set exactly where Keycloak does
(``/realms/<realm>/.well-known/openid-configuration`` and
``/realms/<realm>/protocol/openid-connect/certs``) and mints access tokens with the claims
Keycloak puts in them, signed with joserfc. Keys can be added, rotated and removed while the
server runs, and a few helpers build the forged tokens a verifier must refuse.

Keycloak also publishes an ``RSA-OAEP`` key with ``"use": "enc"`` in the same key set; it is
published here too (``publish_enc_key``) so that a verifier is tested against a realistic set.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from joserfc import jwt
from joserfc.jwk import ECKey, KeyParameters, RSAKey
from joserfc.jws import JWSRegistry

from tests.support.http_stub import StubRequest, StubResponse, StubServer

__all__ = ["OidcIssuer"]

type SigningKey = RSAKey | ECKey

_EC_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
_RSA_ALGS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
#: the realm roles Keycloak gives every user, besides ``default-roles-<realm>``
_DEFAULT_REALM_ROLES = ("offline_access", "uma_authorization")
#: the ``account`` client roles that make Keycloak put ``"aud": "account"`` in access tokens
_ACCOUNT_ROLES = ("manage-account", "manage-account-links", "view-profile")


@dataclass(slots=True)
class _PublishedKey:
    key: SigningKey
    alg: str
    use: str
    certificate: x509.Certificate

    @property
    def kid(self) -> str:
        kid = self.key.kid
        assert kid is not None
        return kid

    def as_jwk(self) -> dict[str, Any]:
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return {
            **self.key.as_dict(private=False),
            "kid": self.kid,
            "alg": self.alg,
            "use": self.use,
            "x5c": [base64.b64encode(der).decode()],
            "x5t": _b64url(hashlib.sha1(der, usedforsecurity=False).digest()),
            "x5t#S256": _b64url(hashlib.sha256(der).digest()),
        }


class OidcIssuer(StubServer):
    """Keycloak realm stand-in. ``issuer`` is ``{url}/realms/{realm}`` once started."""

    def __init__(
        self,
        realm: str = "test",
        *,
        alg: str = "RS256",
        jwks_max_age: int | None = None,
        publish_enc_key: bool = True,
    ) -> None:
        super().__init__()
        self.realm = realm
        #: when set, JWKS responses carry ``Cache-Control: max-age=N``; otherwise none
        self.jwks_max_age = jwks_max_age
        #: when set, the JWKS endpoint answers this status (e.g. 503) instead of the key set
        self.jwks_failure_status: int | None = None
        self._keys_lock = threading.Lock()
        self._keys: dict[str, _PublishedKey] = {}
        self._signing_kid: str | None = None
        self.add_key(alg)
        if publish_enc_key:
            self._publish(_generate_key("RSA-OAEP"), "RSA-OAEP", use="enc")

    # -- URLs ---------------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return f"{self.url}/realms/{self.realm}"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/certs"

    @property
    def _realm_path(self) -> str:
        return f"/realms/{self.realm}"

    # -- counters -----------------------------------------------------------------------
    @property
    def discovery_hits(self) -> int:
        return len(self.requests_to(f"{self._realm_path}/.well-known/openid-configuration", "GET"))

    @property
    def jwks_hits(self) -> int:
        return len(self.requests_to(f"{self._realm_path}/protocol/openid-connect/certs", "GET"))

    # -- keys ---------------------------------------------------------------------------
    @property
    def signing_kid(self) -> str:
        with self._keys_lock:
            assert self._signing_kid is not None
            return self._signing_kid

    @property
    def published_kids(self) -> list[str]:
        """Kids of the signature keys in the JWKS (the ``enc`` key is not listed)."""
        with self._keys_lock:
            return [kid for kid, entry in self._keys.items() if entry.use == "sig"]

    def add_key(self, alg: str = "RS256") -> str:
        """Publish a new signing key; it signs only if it is the first one (see ``rotate``)."""
        kid = self._publish(_generate_key(alg), alg, use="sig")
        with self._keys_lock:
            if self._signing_kid is None:
                self._signing_kid = kid
        return kid

    def rotate(self, alg: str | None = None) -> str:
        """Publish a new key and sign with it from now on; the old key stays published."""
        kid = self.add_key(alg or self._key(None).alg)
        with self._keys_lock:
            self._signing_kid = kid
        return kid

    def remove_key(self, kid: str) -> None:
        with self._keys_lock:
            if kid == self._signing_kid:
                raise ValueError("cannot remove the signing key; rotate() first")
            del self._keys[kid]

    def public_jwks(self) -> dict[str, Any]:
        with self._keys_lock:
            return {"keys": [entry.as_jwk() for entry in self._keys.values()]}

    def public_key_pem(self, kid: str | None = None) -> bytes:
        return self._key(kid).key.as_pem(private=False)

    def _publish(self, key: SigningKey, alg: str, *, use: str) -> str:
        entry = _PublishedKey(key=key, alg=alg, use=use, certificate=_self_signed(key, self.realm))
        with self._keys_lock:
            self._keys[entry.kid] = entry
        return entry.kid

    def _key(self, kid: str | None) -> _PublishedKey:
        with self._keys_lock:
            return self._keys[kid or self._signing_kid or ""]

    # -- tokens -------------------------------------------------------------------------
    def claims(
        self,
        sub: str | None = None,
        username: str = "alice",
        *,
        roles: Sequence[str] = (),
        client_roles: Sequence[str] | None = None,
        azp: str | None = "api",
        aud: str | Sequence[str] | None = "account",
        typ: str | None = "Bearer",
        exp_in: int = 300,
        iat: int | None = None,
        nbf: int | None = None,
        extra_claims: Mapping[str, Any] | None = None,
        drop_claims: Sequence[str] = (),
    ) -> dict[str, Any]:
        """The payload of a Keycloak access token.

        ``sub`` defaults to a UUID derived from ``username`` (same user, same subject).
        ``exp`` is ``now + exp_in`` (negative for an expired token), independent of ``iat``.
        ``roles`` are added to the realm's default roles. A value of ``None`` for ``azp``,
        ``aud`` or ``typ`` leaves the claim out; ``extra_claims`` are applied last, then
        ``drop_claims`` are removed.
        """
        now = int(time.time())
        given_name = username.capitalize()
        payload: dict[str, Any] = {
            "exp": now + exp_in,
            "iat": now if iat is None else iat,
            "jti": str(uuid.uuid4()),
            "iss": self.issuer,
            "aud": aud if aud is None or isinstance(aud, str) else list(aud),
            "sub": sub or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.realm}/{username}")),
            "typ": typ,
            "azp": azp,
            "sid": str(uuid.uuid4()),
            "acr": "1",
            "realm_access": {"roles": [*roles, f"default-roles-{self.realm}", *_DEFAULT_REALM_ROLES]},
            "resource_access": {},
            "scope": "openid profile email",
            "email_verified": True,
            "name": f"{given_name} Tester",
            "preferred_username": username,
            "given_name": given_name,
            "family_name": "Tester",
            "email": f"{username}@example.com",
        }
        if nbf is not None:
            payload["nbf"] = nbf
        audiences = [aud] if isinstance(aud, str) else list(aud or ())
        if "account" in audiences:
            payload["resource_access"]["account"] = {"roles": list(_ACCOUNT_ROLES)}
        if client_roles is not None and azp is not None:
            payload["resource_access"][azp] = {"roles": list(client_roles)}
        payload = {name: value for name, value in payload.items() if value is not None}
        payload.update(extra_claims or {})
        for name in drop_claims:
            payload.pop(name, None)
        return payload

    def mint(
        self,
        sub: str | None = None,
        username: str = "alice",
        *,
        roles: Sequence[str] = (),
        client_roles: Sequence[str] | None = None,
        azp: str | None = "api",
        aud: str | Sequence[str] | None = "account",
        typ: str | None = "Bearer",
        exp_in: int = 300,
        iat: int | None = None,
        nbf: int | None = None,
        kid: str | None = None,
        alg: str | None = None,
        extra_claims: Mapping[str, Any] | None = None,
        headers_override: Mapping[str, Any] | None = None,
        drop_claims: Sequence[str] = (),
    ) -> str:
        """A signed access token (see :meth:`claims` for the payload).

        ``kid`` picks a published key (default: the signing key) and ``alg`` overrides its
        algorithm. ``headers_override`` is merged into the JOSE header last; a ``None`` value
        removes that header (e.g. ``{"kid": None}``).
        """
        payload = self.claims(
            sub,
            username,
            roles=roles,
            client_roles=client_roles,
            azp=azp,
            aud=aud,
            typ=typ,
            exp_in=exp_in,
            iat=iat,
            nbf=nbf,
            extra_claims=extra_claims,
            drop_claims=drop_claims,
        )
        entry = self._key(kid)
        return _sign(entry.key, alg or entry.alg, payload, headers_override)

    def mint_unsigned(self, claims: Mapping[str, Any] | None = None) -> str:
        """``alg: none`` with an empty signature (joserfc refuses to produce one)."""
        header = {"alg": "none", "typ": "JWT", "kid": self.signing_kid}
        return f"{_b64url_json(header)}.{_b64url_json(claims or self.claims())}."

    def mint_hs256_with_public_key(self, claims: Mapping[str, Any] | None = None) -> str:
        """The key-confusion attack: HMAC-SHA256 keyed with the published RSA key's PEM."""
        header = {"alg": "HS256", "typ": "JWT", "kid": self.signing_kid}
        signing_input = f"{_b64url_json(header)}.{_b64url_json(claims or self.claims())}"
        secret = self.public_key_pem()
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64url(signature)}"

    def mint_with_unknown_key(self, claims: Mapping[str, Any] | None = None, alg: str = "RS256") -> str:
        """Well-formed and signed, but with a key (and kid) this issuer never published."""
        return _sign(_generate_key(alg), alg, claims or self.claims())

    @staticmethod
    def tamper(token: str, changes: Mapping[str, Any] | None = None) -> str:
        """Change payload claims and keep the original header and signature.

        The default change is a privilege escalation: ``admin`` added to the realm roles.
        """
        header, payload_segment, signature = token.split(".")
        payload = json.loads(_b64url_decode(payload_segment))
        if changes is None:
            roles = payload.get("realm_access", {}).get("roles", [])
            changes = {"realm_access": {"roles": [*roles, "admin"]}}
        payload.update(changes)
        return f"{header}.{_b64url_json(payload)}.{signature}"

    # -- HTTP ---------------------------------------------------------------------------
    def handle(self, request: StubRequest) -> StubResponse:
        if request.method == "GET":
            if request.path == f"{self._realm_path}/.well-known/openid-configuration":
                return StubResponse.json(self.discovery_document())
            if request.path == f"{self._realm_path}/protocol/openid-connect/certs":
                if self.jwks_failure_status is not None:
                    return StubResponse.json({"error": "unknown_error"}, status=self.jwks_failure_status)
                headers = {} if self.jwks_max_age is None else {"Cache-Control": f"max-age={self.jwks_max_age}"}
                return StubResponse.json(self.public_jwks(), headers=headers)
        return StubResponse.json({"error": "Unable to find matching target resource method"}, status=404)

    def discovery_document(self) -> dict[str, Any]:
        """The fields of Keycloak's discovery document that clients read."""
        base = f"{self.issuer}/protocol/openid-connect"
        signing_algs = ["PS384", "RS384", "EdDSA", "ES384", "ES256", "RS256", "ES512", "PS256", "PS512", "RS512"]
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{base}/auth",
            "token_endpoint": f"{base}/token",
            "introspection_endpoint": f"{base}/token/introspect",
            "userinfo_endpoint": f"{base}/userinfo",
            "end_session_endpoint": f"{base}/logout",
            "jwks_uri": self.jwks_uri,
            "check_session_iframe": f"{base}/login-status-iframe.html",
            "revocation_endpoint": f"{base}/revoke",
            "device_authorization_endpoint": f"{base}/auth/device",
            "registration_endpoint": f"{self.issuer}/clients-registrations/openid-connect",
            "grant_types_supported": [
                "authorization_code",
                "implicit",
                "refresh_token",
                "password",
                "client_credentials",
                "urn:ietf:params:oauth:grant-type:device_code",
            ],
            "response_types_supported": [
                "code",
                "none",
                "id_token",
                "token",
                "id_token token",
                "code id_token",
                "code token",
                "code id_token token",
            ],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": signing_algs,
            "userinfo_signing_alg_values_supported": [*signing_algs, "HS256", "HS384", "HS512", "none"],
            "token_endpoint_auth_methods_supported": [
                "private_key_jwt",
                "client_secret_basic",
                "client_secret_post",
                "tls_client_auth",
                "client_secret_jwt",
            ],
            "claims_supported": [
                "aud",
                "sub",
                "iss",
                "auth_time",
                "name",
                "given_name",
                "family_name",
                "preferred_username",
                "email",
                "acr",
            ],
            "scopes_supported": ["openid", "profile", "email", "roles", "web-origins", "offline_access"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "claims_parameter_supported": True,
            "request_parameter_supported": True,
            "request_uri_parameter_supported": True,
            "backchannel_logout_supported": True,
            "frontchannel_logout_supported": True,
            "authorization_response_iss_parameter_supported": True,
        }


# -- helpers --------------------------------------------------------------------------------
def _generate_key(alg: str) -> SigningKey:
    parameters: KeyParameters = {"alg": alg, "use": "enc" if alg.startswith("RSA-OAEP") else "sig"}
    if alg in _EC_CURVES:
        return ECKey.generate_key(_EC_CURVES[alg], parameters=parameters, auto_kid=True)
    if alg in _RSA_ALGS or alg.startswith("RSA-OAEP"):
        return RSAKey.generate_key(2048, parameters=parameters, auto_kid=True)
    raise ValueError(f"unsupported key algorithm {alg!r}")


def _sign(
    key: SigningKey,
    alg: str,
    payload: Mapping[str, Any],
    headers_override: Mapping[str, Any] | None = None,
) -> str:
    header: dict[str, Any] = {"alg": alg, "typ": "JWT", "kid": key.kid}
    for name, value in (headers_override or {}).items():
        if value is None:
            header.pop(name, None)
        else:
            header[name] = value
    if key.alg != alg:
        # joserfc refuses to use a key for another algorithm than its "alg"; a copy without
        # the parameter lets tests sign e.g. RS384 with an RS256 key on purpose.
        key = type(key).import_key({k: v for k, v in key.as_dict(private=True).items() if k != "alg"})
    # Not strict about header names, so that tests can add any header they like.
    registry = JWSRegistry(algorithms=[alg], strict_check_header=False)
    return jwt.encode(header, dict(payload), key, registry=registry)


def _self_signed(key: SigningKey, realm: str) -> x509.Certificate:
    """Keycloak publishes each key with a self-signed certificate named after the realm."""
    private_key = key.private_key
    assert private_key is not None
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, realm)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(private_key, hashes.SHA256())
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_json(value: Mapping[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode())


def _b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
