"""OidcKeySource against the stand-in issuer over HTTP: discovery, caching, refresh, rate limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from adapters.auth.oidc import OidcKeySource, OidcStartupError, _max_age
from adapters.auth.tokens import JwtVerifier, TokenVerifierConfig
from domain.errors import Unauthenticated
from tests.api.test_oidc_api import _relabelled
from tests.support.oidc_issuer import OidcIssuer


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def issuer() -> Iterator[OidcIssuer]:
    with OidcIssuer(realm="demo") as server:
        yield server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def source(issuer: OidcIssuer, clock: ManualClock) -> AsyncIterator[OidcKeySource]:
    keys = OidcKeySource(issuer.issuer, refetch_interval_seconds=10, startup_backoff_seconds=0.01, clock=clock)
    await keys.start()
    try:
        yield keys
    finally:
        await keys.close()


async def test_start_reads_discovery_then_the_key_set(source: OidcKeySource, issuer: OidcIssuer) -> None:
    assert (issuer.discovery_hits, issuer.jwks_hits) == (1, 1)
    assert source.issuer == issuer.issuer
    assert source.generation == 1
    assert source.get(issuer.signing_kid) is not None


async def test_the_encryption_key_is_not_a_signing_key(source: OidcKeySource, issuer: OidcIssuer) -> None:
    enc = [k["kid"] for k in issuer.public_jwks()["keys"] if k["use"] == "enc"]
    assert enc, "the stand-in publishes Keycloak's RSA-OAEP key"
    assert source.get(enc[0]) is None


async def test_unknown_kid_refetch_is_single_flight_and_rate_limited(
    source: OidcKeySource, issuer: OidcIssuer, clock: ManualClock
) -> None:
    assert not await source.refresh_for("nope")
    assert issuer.jwks_hits == 1, "within the interval of the start-up fetch: no refetch"

    clock.now += 11
    issuer.delay_seconds = 0.2  # keep the fetch in flight while the others arrive
    results = await asyncio.gather(*(source.refresh_for(f"forged-{i}") for i in range(25)))
    assert results == [False] * 25
    assert issuer.jwks_hits == 2, "25 concurrent unknown kids share one fetch"

    issuer.delay_seconds = 0
    new_kid = issuer.rotate()
    assert not await source.refresh_for(new_kid), "rate-limited: the interval has not passed"
    clock.now += 11
    assert await source.refresh_for(new_kid)
    assert issuer.jwks_hits == 3
    assert await source.refresh_for(new_kid), "a known kid needs no fetch"
    assert issuer.jwks_hits == 3


async def test_generation_moves_only_when_the_key_set_changes(
    source: OidcKeySource, issuer: OidcIssuer, clock: ManualClock
) -> None:
    clock.now += 11
    await source.refresh_for("unknown")
    assert (issuer.jwks_hits, source.generation) == (2, 1), "same keys: same generation"
    old = issuer.signing_kid
    issuer.rotate()
    issuer.remove_key(old)
    clock.now += 11
    await source.refresh_for(issuer.signing_kid)
    assert source.generation == 2
    assert source.get(old) is None, "a key removed upstream is dropped on the next fetch"


async def test_a_failed_refresh_keeps_the_keys(source: OidcKeySource, issuer: OidcIssuer, clock: ManualClock) -> None:
    kid = issuer.signing_kid
    issuer.jwks_failure_status = 500
    clock.now += 11
    assert not await source.refresh_for("unknown")
    assert issuer.jwks_hits == 2
    assert source.get(kid) is not None
    assert source.generation == 1


async def test_background_refresh_honours_max_age(issuer: OidcIssuer) -> None:
    issuer.jwks_max_age = 1
    keys = OidcKeySource(issuer.issuer, refetch_interval_seconds=0)
    await keys.start()
    try:
        new_kid = issuer.rotate()
        for _ in range(150):  # up to 15 s on a busy machine; typically about one second
            if keys.get(new_kid) is not None:
                break
            await asyncio.sleep(0.1)
        assert keys.get(new_kid) is not None, "the background refresh picked up the new key"
        assert issuer.jwks_hits >= 2
    finally:
        await keys.close()
    hits = issuer.jwks_hits
    await asyncio.sleep(1.5)
    assert issuer.jwks_hits == hits, "close() stops the background refresh"


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("public", None),
        ("max-age=300", 300.0),
        ("public, max-age=60, must-revalidate", 60.0),
        ("no-cache", 0.0),
        ("no-store, max-age=100", 0.0),
    ],
)
def test_cache_control_max_age(header: str | None, seconds: float | None) -> None:
    assert _max_age(header) == seconds


async def test_start_retries_with_backoff_then_succeeds(issuer: OidcIssuer) -> None:
    failures = {"left": 2}
    real = httpx.AsyncHTTPTransport()

    class Flaky(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if failures["left"]:
                failures["left"] -= 1
                raise httpx.ConnectError("connection refused", request=request)
            return await real.handle_async_request(request)

    keys = OidcKeySource(issuer.issuer, startup_attempts=3, startup_backoff_seconds=0.01, transport=Flaky())
    await keys.start()
    try:
        assert keys.get(issuer.signing_kid) is not None
        assert issuer.discovery_hits == 1
    finally:
        await keys.close()


async def test_start_gives_up_with_an_error_naming_the_url(issuer: OidcIssuer) -> None:
    issuer.stop()
    keys = OidcKeySource(issuer.issuer, startup_attempts=2, startup_backoff_seconds=0.01)
    with pytest.raises(OidcStartupError, match="after 2 attempts") as raised:
        await keys.start()
    assert issuer.discovery_url in str(raised.value)


async def test_a_jwks_outage_at_start_up_names_the_jwks_url(issuer: OidcIssuer) -> None:
    issuer.jwks_failure_status = 503
    keys = OidcKeySource(issuer.issuer, startup_attempts=2, startup_backoff_seconds=0.01)
    with pytest.raises(OidcStartupError) as raised:
        await keys.start()
    assert f"GET {issuer.jwks_uri}: HTTP 503" in str(raised.value)
    assert issuer.jwks_hits == 2


async def test_a_discovery_document_for_another_issuer_is_refused(issuer: OidcIssuer) -> None:
    keys = OidcKeySource(issuer.url + "/realms/other", startup_attempts=1)
    with pytest.raises(OidcStartupError, match="HTTP 404"):
        await keys.start()
    lying = OidcKeySource(issuer.issuer, startup_attempts=1, transport=_Rewriting(issuer.issuer))
    with pytest.raises(OidcStartupError, match="names issuer"):
        await lying.start()


class _Rewriting(httpx.AsyncBaseTransport):
    """Serves the real discovery document with another ``issuer`` in it."""

    def __init__(self, issuer: str) -> None:
        self._issuer = issuer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"issuer": self._issuer + "-evil", "jwks_uri": self._issuer + "/certs"})


async def test_client_roles_and_realm_roles_reach_the_principal(source: OidcKeySource, issuer: OidcIssuer) -> None:
    verifier = JwtVerifier(source, TokenVerifierConfig(admin_role="admin"))
    principal = await verifier.verify(issuer.mint(roles=["admin"], client_roles=["editor"]))
    assert principal.is_admin
    assert {"admin", "default-roles-demo"} <= principal.roles
    assert principal.client_roles == frozenset({"editor"})


async def test_a_key_without_alg_accepts_only_its_own_family(issuer: OidcIssuer) -> None:
    jwks = issuer.public_jwks()
    for entry in jwks["keys"]:
        entry.pop("alg")

    async def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("openid-configuration"):
            return httpx.Response(200, json=issuer.discovery_document())
        return httpx.Response(200, json=jwks)

    keys = OidcKeySource(issuer.issuer, startup_attempts=1, transport=httpx.MockTransport(serve))
    await keys.start()
    try:
        verifier = JwtVerifier(keys, TokenVerifierConfig())
        assert (await verifier.verify(issuer.mint(alg="RS384"))).username == "alice"
        with pytest.raises(Unauthenticated, match="cannot verify ES256"):
            await verifier.verify(_relabelled(issuer.mint(), alg="ES256"))
    finally:
        await keys.close()
