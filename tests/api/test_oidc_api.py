"""Bearer tokens from a real OpenID Connect issuer on 127.0.0.1, through the whole app over HTTP.

The issuer (tests/support/oidc_issuer.py) is a Keycloak stand-in: its own keys, discovery, a JWKS
over HTTP, Keycloak-shaped claims. The app is configured with OIDC_ISSUER pointing at it, exactly
as in production; nothing in the app is replaced. Token checks do not depend on the database, so
these tests run on SQLite only (the database paths are covered on both engines elsewhere).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from joserfc.jws import JWSRegistry
from litestar.testing import AsyncTestClient

from adapters.auth.oidc import OidcStartupError
from app.container import build_container
from app.main import create_app
from tests.conftest import settings_for
from tests.support.oidc_issuer import OidcIssuer
from tests.support.problems import assert_problem


@asynccontextmanager
async def app_for(issuer_url: str, directory: Path, **env: str) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = settings_for(
        f"sqlite:///{directory / 'oidc.sqlite3'}",
        directory,
        OIDC_ISSUER=issuer_url,
        OIDC_STARTUP_BACKOFF_SECONDS="0.01",
        **env,
    )
    async with AsyncTestClient(app=create_app(build_container(settings))) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- one issuer and one app for the many single-request cases ---------------------------------
@pytest.fixture(scope="module")
def issuer() -> Iterator[OidcIssuer]:
    with OidcIssuer(realm="demo") as server:
        server.add_key()  # a second published key, for the kid-mismatch case
        yield server


@pytest.fixture(scope="module")
async def client(issuer: OidcIssuer, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncTestClient[Any]]:
    async with app_for(issuer.issuer, tmp_path_factory.mktemp("oidc"), OIDC_AUDIENCE="api") as test_client:
        yield test_client


async def test_a_keycloak_access_token_is_accepted(client, issuer):
    response = await client.get("/v1/users/me", headers=bearer(issuer.mint(username="carol")))
    assert response.status_code == 200, response.text
    user = response.json()
    assert (user["username"], user["full_name"], user["email"]) == ("carol", "Carol Tester", "carol@example.com")


now = int(time.time())


def _self_signed_with_jwk_header(issuer: OidcIssuer, *, jku: bool = False) -> str:
    """Signed with the attacker's own key, whose public half rides in the header under the real kid."""
    # 1024 bits keep the header under joserfc's 512-byte limit, so the signature check is reached.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc's SecurityWarning about the size: that is the point
        attacker = RSAKey.generate_key(1024, parameters={"alg": "RS256"})
    header: dict[str, Any] = {"alg": "RS256", "kid": issuer.signing_kid}
    if jku:
        header["jku"] = "http://127.0.0.1:1/attacker/certs"
    else:
        header["jwk"] = attacker.as_dict(private=False)
    registry = JWSRegistry(algorithms=["RS256"], strict_check_header=False)
    return jwt.encode(header, issuer.claims(roles=["admin"]), attacker, registry=registry)


def _relabelled(token: str, **header_changes: Any) -> str:
    """The same payload and signature under a changed header."""
    header, payload, signature = token.split(".")
    changed = {**json.loads(base64.urlsafe_b64decode(header + "==")), **header_changes}
    encoded = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
    return f"{encoded}.{payload}.{signature}"


REFUSED: list[tuple[str, Callable[[OidcIssuer], str], str]] = [
    ("expired", lambda i: i.mint(exp_in=-120), "expired"),
    ("not yet valid", lambda i: i.mint(nbf=int(time.time()) + 600), "not valid yet"),
    ("issued in the future", lambda i: i.mint(iat=int(time.time()) + 600), "future"),
    ("other issuer", lambda i: i.mint(extra_claims={"iss": "http://127.0.0.1:1/realms/demo"}), "issuer"),
    ("issuer with a trailing slash", lambda i: i.mint(extra_claims={"iss": i.issuer + "/"}), "issuer"),
    ("no subject", lambda i: i.mint(drop_claims=["sub"]), "no sub claim"),
    ("empty subject", lambda i: i.mint(extra_claims={"sub": ""}), "invalid sub"),
    ("no expiry", lambda i: i.mint(drop_claims=["exp"]), "no exp claim"),
    ("expiry not a number", lambda i: i.mint(extra_claims={"exp": "tomorrow"}), "invalid exp"),
    ("keycloak ID token", lambda i: i.mint(typ="ID"), "'ID'"),
    ("keycloak refresh token", lambda i: i.mint(typ="Refresh"), "'Refresh'"),
    ("another audience", lambda i: i.mint(aud="account", azp="other-client"), "audience"),
    ("alg none", lambda i: i.mint_unsigned(), "algorithm 'none'"),
    ("HS256 keyed with the public key", lambda i: i.mint_hs256_with_public_key(), "algorithm 'HS256'"),
    ("alg other than the key declares", lambda i: i.mint(alg="RS384"), "is for RS256, not RS384"),
    ("PS256 with an RS256 key", lambda i: i.mint(alg="PS256"), "is for RS256, not PS256"),
    ("signed by a key the issuer never published", lambda i: i.mint_with_unknown_key(), "unknown key"),
    (
        "kid of one key, signed by another",
        lambda i: i.mint(kid=i.published_kids[1], headers_override={"kid": i.signing_kid}),
        "bad signature",
    ),
    ("tampered payload (admin role added)", lambda i: OidcIssuer.tamper(i.mint()), "bad signature"),
    ("no kid", lambda i: i.mint(headers_override={"kid": None}), "names no key"),
    ("the attacker's key embedded in the header (jwk)", lambda i: _self_signed_with_jwk_header(i), "bad signature"),
    ("a key set URL in the header (jku)", lambda i: _self_signed_with_jwk_header(i, jku=True), "bad signature"),
    ("not a JWT", lambda i: "not-a-jwt", "malformed"),
    ("two segments", lambda i: ".".join(i.mint().split(".")[:2]), "malformed"),
]


@pytest.mark.parametrize(("forge", "reason"), [pytest.param(f, r, id=name) for name, f, r in REFUSED])
async def test_untrusted_tokens_are_401_saying_why(client, issuer, forge, reason, caplog):
    token = forge(issuer)
    with caplog.at_level(logging.INFO, logger="adapters.auth.tokens"):
        response = await client.get("/v1/users/me", headers=bearer(token))
    problem = assert_problem(response, 401)
    assert reason in problem["detail"]
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="invalid_token", error_description="')
    assert reason.replace('"', "'") in challenge
    assert token not in response.text
    logged = [r.getMessage() for r in caplog.records if r.name == "adapters.auth.tokens"]
    assert any(reason in message for message in logged), logged
    assert all(token not in message for message in logged), "the token is never logged"


@pytest.mark.parametrize(
    "mint_kwargs",
    [
        pytest.param({"exp_in": -30}, id="expired within the 60 s leeway"),
        pytest.param({"nbf": now + 30}, id="nbf within the leeway"),
        pytest.param({"aud": ["api", "account"], "azp": "other"}, id="audience in aud"),
        pytest.param({"aud": "account", "azp": "api"}, id="audience as azp (Keycloak's default)"),
        pytest.param({"typ": None}, id="no typ claim"),
    ],
)
async def test_tokens_within_the_rules_are_accepted(client, issuer, mint_kwargs):
    response = await client.get("/v1/users/me", headers=bearer(issuer.mint(**mint_kwargs)))
    assert response.status_code == 200, response.text


async def test_realm_role_admin_makes_an_administrator(client, issuer):
    bob, alice = bearer(issuer.mint(username="bob")), bearer(issuer.mint(username="alice", roles=["admin"]))
    mallory = bearer(issuer.mint(username="mallory", client_roles=["admin"]))  # a client role is not enough
    off = {"maintenance": False}  # an administrator's route (the service context)
    assert_problem(await client.patch("/v1/service-context", json=off, headers=bob), 403)
    assert_problem(await client.patch("/v1/service-context", json=off, headers=mallory), 403)
    assert (await client.patch("/v1/service-context", json=off, headers=alice)).status_code == 200


async def test_keys_are_fetched_once_not_per_request(client, issuer):
    jwks, discovery = issuer.jwks_hits, issuer.discovery_hits
    for i in range(40):
        response = await client.get("/v1/users/me", headers=bearer(issuer.mint(username=f"user{i % 4}")))
        assert response.status_code == 200
    assert (issuer.jwks_hits, issuer.discovery_hits) == (jwks, discovery)


# -- cases that change the issuer: an issuer and an app each ----------------------------------
async def test_key_rotation_without_restart(tmp_path):
    with OidcIssuer(realm="demo") as issuer:
        async with app_for(issuer.issuer, tmp_path, OIDC_JWKS_REFETCH_INTERVAL_SECONDS="0") as client:
            old_kid = issuer.signing_kid
            old_token = issuer.mint()
            assert (await client.get("/v1/users/me", headers=bearer(old_token))).status_code == 200
            hits = issuer.jwks_hits

            issuer.rotate()  # Keycloak: a new active key; the old one stays published for a while
            new_token = issuer.mint()
            assert (await client.get("/v1/users/me", headers=bearer(new_token))).status_code == 200
            assert issuer.jwks_hits == hits + 1, "the unknown kid made the app refetch once"
            assert (await client.get("/v1/users/me", headers=bearer(old_token))).status_code == 200

            issuer.remove_key(old_kid)
            # The next refresh (here: the refetch an unknown kid causes) drops the removed key.
            unknown = issuer.mint_with_unknown_key()
            assert (
                "unknown key"
                in assert_problem(await client.get("/v1/users/me", headers=bearer(unknown)), 401)["detail"]
            )
            refused = await client.get("/v1/users/me", headers=bearer(old_token))
            assert "unknown key" in assert_problem(refused, 401)["detail"]
            assert (await client.get("/v1/users/me", headers=bearer(new_token))).status_code == 200


async def test_a_burst_of_unknown_kids_is_rate_limited(tmp_path):
    with OidcIssuer(realm="demo") as issuer:
        async with app_for(issuer.issuer, tmp_path, OIDC_JWKS_REFETCH_INTERVAL_SECONDS="3600") as client:
            hits = issuer.jwks_hits
            forged = [bearer(issuer.mint_with_unknown_key()) for _ in range(5)]
            responses = await asyncio.gather(*(client.get("/v1/users/me", headers=forged[i % 5]) for i in range(30)))
            assert {r.status_code for r in responses} == {401}
            assert issuer.jwks_hits == hits, "no refetch within the interval, however many unknown kids"
            # The limit also holds back a real rotation until the interval has passed:
            issuer.rotate()
            assert (await client.get("/v1/users/me", headers=bearer(issuer.mint()))).status_code == 401
            assert issuer.jwks_hits == hits


async def test_the_issuer_going_down_keeps_cached_keys_working(tmp_path):
    with OidcIssuer(realm="demo") as issuer:
        async with app_for(issuer.issuer, tmp_path, OIDC_JWKS_REFETCH_INTERVAL_SECONDS="0") as client:
            token = issuer.mint()
            issuer.jwks_failure_status = 503
            assert (await client.get("/v1/users/me", headers=bearer(token))).status_code == 200
            # An unknown kid tries a refetch, which fails: refused, and the known keys stay.
            assert_problem(await client.get("/v1/users/me", headers=bearer(issuer.mint_with_unknown_key())), 401)
            issuer.stop()
            assert_problem(await client.get("/v1/users/me", headers=bearer(issuer.mint_with_unknown_key())), 401)
            assert (await client.get("/v1/users/me", headers=bearer(token))).status_code == 200


async def test_es256_realm(tmp_path):
    with OidcIssuer(realm="demo", alg="ES256") as issuer:
        async with app_for(issuer.issuer, tmp_path) as client:
            assert (await client.get("/v1/users/me", headers=bearer(issuer.mint()))).status_code == 200
            relabelled = _relabelled(issuer.mint(), alg="ES384")  # an ES256 signature, labelled ES384
            assert (
                "is for ES256, not ES384"
                in assert_problem(await client.get("/v1/users/me", headers=bearer(relabelled)), 401)["detail"]
            )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    yield exc
    for inner in getattr(exc, "exceptions", ()):
        yield from _causes(inner)
    if exc.__cause__ is not None:
        yield from _causes(exc.__cause__)


async def test_discovery_down_at_start_up_is_a_clear_error_naming_the_url(tmp_path):
    issuer = OidcIssuer(realm="demo").start()
    issuer.stop()  # nothing listens on its port now
    with pytest.raises(BaseException) as raised:  # noqa: PT011 - the app's lifespan wraps it in a group
        async with app_for(issuer.issuer, tmp_path, OIDC_STARTUP_ATTEMPTS="3"):
            pass
    errors = [e for e in _causes(raised.value) if isinstance(e, OidcStartupError)]
    assert errors, raised.value
    message = str(errors[0])
    assert issuer.discovery_url in message
    assert "after 3 attempts" in message
