"""The cache of verified tokens: hits, expiry, key-set generation, configuration changes, the bound."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from adapters.auth.token_cache import CachingTokenVerifier, token_expiry
from adapters.auth.tokens import JwtVerifier, TokenVerifierConfig
from domain.errors import Unauthenticated
from domain.model import Principal
from tests.support.tokens import TestKeys


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingVerifier:
    """Counts how often the real verifier runs; wraps a JwtVerifier over the tests' keys."""

    def __init__(self, keys: TestKeys, config: TokenVerifierConfig | None = None) -> None:
        self.real = JwtVerifier(keys, config or TokenVerifierConfig())
        self.calls = 0

    def configure(self, config: TokenVerifierConfig) -> None:
        self.real.configure(config)

    async def verify(self, token: str) -> Principal:
        self.calls += 1
        return await self.real.verify(token)


class RotatingKeys(TestKeys):
    def __init__(self) -> None:
        super().__init__()
        self.current_generation = 0

    @property
    def generation(self) -> int:
        return self.current_generation


@pytest.fixture
def keys() -> RotatingKeys:
    return RotatingKeys()


async def test_a_token_is_verified_once_then_served_from_the_cache(keys: RotatingKeys) -> None:
    inner = CountingVerifier(keys)
    cache = CachingTokenVerifier(inner, keys)
    token = keys.mint("alice")

    first = await cache.verify(token)
    second = await cache.verify(token)

    assert first == second
    assert first.username == "alice"
    assert inner.calls == 1
    assert len(cache) == 1


async def test_an_entry_is_never_served_past_the_token_exp(keys: RotatingKeys) -> None:
    inner = CountingVerifier(keys)
    token = keys.mint("alice", exp_in=300)
    exp = token_expiry(token)
    assert exp is not None
    clock = Clock(exp - 10)
    cache = CachingTokenVerifier(inner, keys, clock=clock)
    await cache.verify(token)
    await cache.verify(token)
    assert inner.calls == 1

    clock.now = exp  # from exp on, the real verifier decides again (it still allows its leeway)
    await cache.verify(token)
    assert inner.calls == 2
    assert len(cache) == 0  # and what is past exp is not stored


async def test_an_expired_token_is_refused_even_if_it_was_cached() -> None:
    keys = RotatingKeys()
    cache = CachingTokenVerifier(CountingVerifier(keys, TokenVerifierConfig(leeway_seconds=0)), keys)
    token = keys.mint("alice", exp_in=1)
    await cache.verify(token)
    await asyncio.sleep(1.1)
    with pytest.raises(Unauthenticated, match="expired"):
        await cache.verify(token)


async def test_a_new_key_set_generation_empties_the_cache(keys: RotatingKeys) -> None:
    inner = CountingVerifier(keys)
    cache = CachingTokenVerifier(inner, keys)
    token = keys.mint("alice")
    await cache.verify(token)

    keys.current_generation += 1
    await cache.verify(token)

    assert inner.calls == 2


async def test_a_token_whose_key_left_the_key_set_is_refused_after_the_generation_changes(keys: RotatingKeys) -> None:
    cache = CachingTokenVerifier(CountingVerifier(keys), keys)
    token = keys.mint("alice")
    await cache.verify(token)

    keys.public = TestKeys().public  # the key set now holds another key only
    keys.current_generation += 1

    with pytest.raises(Unauthenticated, match=r"bad signature|unknown key"):
        await cache.verify(token)


async def test_reconfiguring_the_wrapped_verifier_empties_the_cache(keys: RotatingKeys) -> None:
    # Live settings reconfigure the verifier: a cached principal must not keep the old admin role.
    real = JwtVerifier(keys, TokenVerifierConfig(admin_role="admin"))
    cache = CachingTokenVerifier(real, keys)
    token = keys.mint("root", roles=("boss",))
    assert not (await cache.verify(token)).is_admin

    real.configure(TokenVerifierConfig(admin_role="boss"))  # called on the wrapped one, not the cache

    assert len(cache) == 0
    assert (await cache.verify(token)).is_admin


async def test_reconfiguring_through_the_cache_applies_and_empties(keys: RotatingKeys) -> None:
    cache = CachingTokenVerifier(JwtVerifier(keys, TokenVerifierConfig()), keys)
    token = keys.mint("alice")
    await cache.verify(token)

    cache.configure(TokenVerifierConfig(audience="blog"))

    with pytest.raises(Unauthenticated, match="wrong audience"):
        await cache.verify(token)


async def test_a_verification_in_flight_during_a_reconfiguration_is_not_stored(keys: RotatingKeys) -> None:
    gate = asyncio.Event()

    class SlowVerifier(CountingVerifier):
        async def verify(self, token: str) -> Principal:
            await gate.wait()
            return await super().verify(token)

    inner = SlowVerifier(keys)
    cache = CachingTokenVerifier(inner, keys)
    pending = asyncio.create_task(cache.verify(keys.mint("alice")))
    await asyncio.sleep(0)
    cache.configure(TokenVerifierConfig(admin_role="other"))
    gate.set()
    await pending

    assert len(cache) == 0


async def test_refusals_are_not_cached(keys: RotatingKeys) -> None:
    inner = CountingVerifier(keys)
    cache = CachingTokenVerifier(inner, keys)
    forged = keys.mint("alice")[:-4] + "AAAA"
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            await cache.verify(forged)
    assert inner.calls == 2
    assert len(cache) == 0


async def test_the_cache_is_bounded_and_evicts_the_oldest_first(keys: RotatingKeys) -> None:
    inner = CountingVerifier(keys)
    cache = CachingTokenVerifier(inner, keys, max_entries=2)
    tokens = [keys.mint(f"user{i}") for i in range(3)]
    for token in tokens:
        await cache.verify(token)
    assert len(cache) == 2

    await cache.verify(tokens[2])  # kept
    await cache.verify(tokens[1])  # kept
    assert inner.calls == 3
    await cache.verify(tokens[0])  # was evicted
    assert inner.calls == 4
    assert len(cache) == 2


async def test_a_full_cache_drops_expired_entries_before_live_ones(keys: RotatingKeys) -> None:
    inner = CountingVerifier(keys)
    short, long_lived, newcomer = (
        keys.mint("short", exp_in=60),
        keys.mint("long", exp_in=600),
        keys.mint("new", exp_in=600),
    )
    clock = Clock(token_expiry(short) - 30)  # type: ignore[operator]
    cache = CachingTokenVerifier(inner, keys, max_entries=2, clock=clock)
    await cache.verify(short)
    await cache.verify(long_lived)
    clock.now += 60  # "short" has expired, "long" has not

    await cache.verify(newcomer)
    await cache.verify(long_lived)

    assert inner.calls == 3  # "long" survived the eviction


def test_token_expiry_reads_exp_and_tolerates_garbage(keys: RotatingKeys) -> None:
    token = keys.mint("alice", exp_in=300)
    exp = token_expiry(token)
    assert exp is not None
    assert exp > time.time()
    assert token_expiry("not-a-token") is None
    assert token_expiry("a.!!!.c") is None
    assert token_expiry(f"a.{uuid.uuid4().hex}.c") is None


def test_max_entries_must_be_positive(keys: RotatingKeys) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CachingTokenVerifier(CountingVerifier(keys), keys, max_entries=0)
