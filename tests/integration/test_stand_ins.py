"""The test stand-ins behave like the services they replace, as seen by real clients.

The OIDC issuer is checked with httpx and joserfc (the libraries the app verifies tokens
with); the Consul stand-in in test_stand_in_consul.py.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from joserfc import errors, jwt
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from joserfc.jwt import JWTClaimsRegistry

from tests.support.oidc_issuer import OidcIssuer

ASYMMETRIC_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]


@pytest.fixture
def issuer() -> Iterator[OidcIssuer]:
    with OidcIssuer() as server:
        yield server


def jwks_of(issuer: OidcIssuer) -> KeySet:
    return KeySet.import_key_set(httpx.get(issuer.jwks_uri).json())


def claims_registry(issuer: OidcIssuer, audience: str = "account") -> JWTClaimsRegistry:
    return JWTClaimsRegistry(
        leeway=5,
        iss={"essential": True, "value": issuer.issuer},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
        sub={"essential": True},
    )


def verify(issuer: OidcIssuer, token: str, keys: KeySet | None = None) -> dict[str, Any]:
    decoded = jwt.decode(token, keys or jwks_of(issuer), algorithms=ASYMMETRIC_ALGS)
    claims_registry(issuer).validate(decoded.claims)
    return decoded.claims


# -- OIDC issuer ------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_discovery_leads_to_keys_that_verify_a_minted_token(issuer: OidcIssuer) -> None:
    async with httpx.AsyncClient() as client:
        discovery = (await client.get(f"{issuer.url}/realms/test/.well-known/openid-configuration")).json()
        jwks = (await client.get(discovery["jwks_uri"])).json()

    assert discovery["issuer"] == issuer.issuer == f"{issuer.url}/realms/test"
    assert discovery["jwks_uri"] == f"{issuer.issuer}/protocol/openid-connect/certs"
    assert discovery["token_endpoint"] == f"{issuer.issuer}/protocol/openid-connect/token"
    for key in jwks["keys"]:
        assert {"kid", "kty", "alg", "use"} <= key.keys()
        assert not {"d", "p", "q"} & key.keys()  # public halves only
    assert [k["use"] for k in jwks["keys"]] == ["sig", "enc"]  # Keycloak also publishes RSA-OAEP

    token = issuer.mint("user-1", "bob", roles=["admin"], client_roles=["writer"])
    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"])
    claims_registry(issuer).validate(decoded.claims)

    assert decoded.header == {"alg": "RS256", "typ": "JWT", "kid": issuer.signing_kid}
    claims = decoded.claims
    assert claims["iss"] == issuer.issuer
    assert (claims["sub"], claims["preferred_username"], claims["typ"]) == ("user-1", "bob", "Bearer")
    assert (claims["aud"], claims["azp"]) == ("account", "api")
    assert claims["realm_access"]["roles"] == ["admin", "default-roles-test", "offline_access", "uma_authorization"]
    assert claims["resource_access"]["api"] == {"roles": ["writer"]}
    assert "view-profile" in claims["resource_access"]["account"]["roles"]
    assert {"name", "given_name", "family_name", "email", "jti", "iat", "exp", "scope"} <= claims.keys()
    assert claims["exp"] - claims["iat"] == 300


def test_same_username_same_subject(issuer: OidcIssuer) -> None:
    assert issuer.claims(username="carol")["sub"] == issuer.claims(username="carol")["sub"]
    assert issuer.claims(username="carol")["sub"] != issuer.claims(username="dave")["sub"]


def test_es256_key_signs_and_verifies(issuer: OidcIssuer) -> None:
    kid = issuer.rotate("ES256")
    token = issuer.mint()
    keys = jwks_of(issuer)

    assert jwt.decode(token, keys, algorithms=ASYMMETRIC_ALGS).header["alg"] == "ES256"
    assert verify(issuer, token, keys)["preferred_username"] == "alice"
    published = {k["kid"]: k for k in httpx.get(issuer.jwks_uri).json()["keys"]}
    assert (published[kid]["kty"], published[kid]["crv"], published[kid]["alg"]) == ("EC", "P-256", "ES256")


def test_rotation_publishes_both_keys_until_the_old_one_is_removed(issuer: OidcIssuer) -> None:
    old_kid = issuer.signing_kid
    old_token = issuer.mint()
    new_kid = issuer.rotate()
    new_token = issuer.mint()

    assert new_kid != old_kid
    assert issuer.signing_kid == new_kid
    assert set(issuer.published_kids) == {old_kid, new_kid}
    keys = jwks_of(issuer)
    assert jwt.decode(new_token, keys, algorithms=["RS256"]).header["kid"] == new_kid
    verify(issuer, old_token, keys)

    issuer.remove_key(old_kid)
    assert issuer.published_kids == [new_kid]
    with pytest.raises(errors.InvalidKeyIdError):
        verify(issuer, old_token)
    verify(issuer, new_token)
    with pytest.raises(ValueError, match="rotate"):
        issuer.remove_key(new_kid)


@pytest.mark.parametrize("max_age", [None, 120])
def test_cache_control_only_when_max_age_is_set(max_age: int | None) -> None:
    with OidcIssuer(jwks_max_age=max_age) as server:
        response = httpx.get(server.jwks_uri)
    assert response.status_code == 200
    if max_age is None:
        assert "cache-control" not in response.headers
    else:
        assert response.headers["cache-control"] == "max-age=120"


def test_hit_counters_count_requests(issuer: OidcIssuer) -> None:
    with httpx.Client() as client:
        client.get(issuer.discovery_url)
        for _ in range(3):
            client.get(issuer.jwks_uri)
        client.get(f"{issuer.issuer}/protocol/openid-connect/nope")
    assert (issuer.discovery_hits, issuer.jwks_hits) == (1, 3)


def test_jwks_failure_status(issuer: OidcIssuer) -> None:
    issuer.jwks_failure_status = 503
    assert httpx.get(issuer.jwks_uri).status_code == 503
    issuer.jwks_failure_status = None
    assert httpx.get(issuer.jwks_uri).status_code == 200


def test_stop_is_an_outage_even_for_a_pooled_connection(issuer: OidcIssuer) -> None:
    with httpx.Client() as client:
        assert client.get(issuer.jwks_uri).status_code == 200
        issuer.stop()
        with pytest.raises(httpx.ConnectError):
            client.get(issuer.jwks_uri)
        issuer.start()
        assert client.get(issuer.jwks_uri).status_code == 200


def test_mint_options_shape_header_and_payload(issuer: OidcIssuer) -> None:
    token = issuer.mint(
        aud=["api", "account"],
        azp="web",
        typ="ID",
        headers_override={"typ": "at+jwt", "x-test": "1"},
        extra_claims={"tenant": "t1"},
        drop_claims=("email", "sid"),
    )
    keys = jwks_of(issuer)
    with pytest.raises(errors.UnsupportedHeaderError):  # joserfc refuses unregistered headers
        jwt.decode(token, keys, algorithms=["RS256"])
    decoded = jwt.decode(token, keys, registry=JWSRegistry(algorithms=["RS256"], strict_check_header=False))
    assert decoded.header == {"alg": "RS256", "typ": "at+jwt", "kid": issuer.signing_kid, "x-test": "1"}
    claims = decoded.claims
    assert (claims["aud"], claims["azp"], claims["typ"], claims["tenant"]) == (["api", "account"], "web", "ID", "t1")
    assert not {"email", "sid"} & claims.keys()

    # A key published for RS256 used with RS384: a KeySet matches the header's alg to the key's.
    with pytest.raises(errors.InvalidKeyIdError):
        jwt.decode(issuer.mint(alg="RS384"), keys, algorithms=["RS384"])

    no_kid = issuer.mint(headers_override={"kid": None}, aud=None, typ=None)
    header = json.loads(base64.urlsafe_b64decode(no_kid.split(".")[0] + "=="))
    payload = issuer.claims(aud=None, typ=None)
    assert "kid" not in header
    assert not {"aud", "typ"} & payload.keys()


# Which joserfc exception each forged token raises with an allow-list of asymmetric algorithms.
ATTACKS: list[tuple[str, Callable[[OidcIssuer], str], type[errors.JoseError]]] = [
    ("alg none", lambda i: i.mint_unsigned(), errors.UnsupportedAlgorithmError),
    ("HS256 keyed with the public key", lambda i: i.mint_hs256_with_public_key(), errors.UnsupportedAlgorithmError),
    ("unknown kid", lambda i: i.mint_with_unknown_key(), errors.InvalidKeyIdError),
    ("no kid", lambda i: i.mint(headers_override={"kid": None}), errors.InvalidKeyIdError),
    ("tampered payload", lambda i: i.tamper(i.mint()), errors.BadSignatureError),
]


@pytest.mark.parametrize(("forge", "expected"), [(f, e) for _, f, e in ATTACKS], ids=[n for n, _, _ in ATTACKS])
def test_forged_tokens_are_refused(
    issuer: OidcIssuer, forge: Callable[[OidcIssuer], str], expected: type[errors.JoseError]
) -> None:
    keys = jwks_of(issuer)
    token = forge(issuer)
    with pytest.raises(expected):
        jwt.decode(token, keys, algorithms=ASYMMETRIC_ALGS)
    # Even a verifier that forgets the allow-list does not accept them (other error types).
    with pytest.raises(errors.JoseError):
        jwt.decode(token, keys)


def test_tamper_changes_the_payload_and_keeps_the_signature(issuer: OidcIssuer) -> None:
    token = issuer.mint()
    forged = issuer.tamper(token)
    assert forged.split(".")[0::2] == token.split(".")[0::2]
    payload = json.loads(base64.urlsafe_b64decode(forged.split(".")[1] + "=="))
    assert "admin" in payload["realm_access"]["roles"]


CLAIM_FAILURES: list[tuple[str, dict[str, Any], type[errors.ClaimError], str]] = [
    ("expired", {"exp_in": -60}, errors.ExpiredTokenError, "exp"),
    ("wrong iss", {"extra_claims": {"iss": "http://evil.example/realms/test"}}, errors.InvalidClaimError, "iss"),
    ("wrong aud", {"aud": "someone-else"}, errors.InvalidClaimError, "aud"),
    ("not yet valid", {"nbf": int(time.time()) + 3600}, errors.InvalidClaimError, "nbf"),
    ("no exp", {"drop_claims": ("exp",)}, errors.MissingClaimError, "exp"),
    ("no aud", {"aud": None}, errors.MissingClaimError, "aud"),
]


@pytest.mark.parametrize(
    ("mint_kwargs", "expected", "claim"),
    [(kw, e, c) for _, kw, e, c in CLAIM_FAILURES],
    ids=[n for n, *_ in CLAIM_FAILURES],
)
def test_claim_checks_fail_with_joserfc_claim_errors(
    issuer: OidcIssuer, mint_kwargs: dict[str, Any], expected: type[errors.ClaimError], claim: str
) -> None:
    token = issuer.mint(**mint_kwargs)
    decoded = jwt.decode(token, jwks_of(issuer), algorithms=ASYMMETRIC_ALGS)  # the signature is fine
    with pytest.raises(expected) as caught:
        claims_registry(issuer).validate(decoded.claims)
    assert caught.value.claim == claim
