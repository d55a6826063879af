"""A bounded cache of verified tokens in front of any TokenVerifier.

Verifying an RS256 token (base64, JSON, an RSA signature check, the claims) costs more than the
rest of a cached read; a client sends the same token for minutes. So the answer for a token is
kept, keyed by the whole token, and given again while all of these hold:

- the token's ``exp`` has not passed (never served past it, leeway or not: the inner verifier
  decides again from then on, and a token already past ``exp`` is never stored);
- the key source's ``generation`` is the one it was verified under (a rotated or refetched key
  set empties the cache);
- the verifier's configuration is the one it was verified under: ``configure()`` (the way live
  settings change the audience or the admin role) empties the cache, whether it is called on
  this wrapper or on the wrapped verifier itself.

Refusals are never cached. The cache holds at most ``max_entries`` tokens; when full, expired
entries go first, then the oldest.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import msgspec

from adapters.auth.keys import KeySource
from domain.model import Principal
from domain.ports import TokenVerifier

DEFAULT_MAX_ENTRIES = 4096


class _Expiry(msgspec.Struct):
    exp: float


_decode_expiry = msgspec.json.Decoder(_Expiry).decode


def token_expiry(token: str) -> float | None:
    """The ``exp`` of a token that has already been verified (so its payload can be trusted)."""
    try:
        payload = token.split(".", 2)[1]
        return _decode_expiry(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).exp
    except (IndexError, ValueError, msgspec.DecodeError):
        return None


class CachingTokenVerifier:
    def __init__(
        self,
        inner: TokenVerifier,
        keys: KeySource,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._inner = inner
        self._keys = keys
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._generation = keys.generation
        self._epoch = 0  # grows on every clear(): a verification begun before it is not stored
        self.hits = self.misses = 0  # since the start; read by the metrics (token_cache_hits_total, ...)
        self._wrap_configure(inner)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries = {}
        self._epoch += 1

    def configure(self, config: Any) -> None:
        """Reconfigure the wrapped verifier (it must have ``configure``); the cache empties."""
        configure = getattr(self._inner, "configure", None)
        if configure is None:
            raise TypeError(f"{type(self._inner).__name__} cannot be reconfigured")
        configure(config)

    def _wrap_configure(self, inner: TokenVerifier) -> None:
        # Whoever holds the wrapped verifier and reconfigures it must empty this cache too.
        original = getattr(inner, "configure", None)
        if original is None:
            return

        def configure_and_forget(config: Any) -> None:
            original(config)
            self.clear()

        inner.configure = configure_and_forget  # type: ignore[attr-defined]

    async def verify(self, token: str) -> Principal:
        generation = self._keys.generation
        if generation != self._generation:
            self._generation = generation
            self.clear()
        entry = self._entries.get(token)
        if entry is not None:
            if self._clock() < entry[1]:
                self.hits += 1
                return entry[0]
            del self._entries[token]
        self.misses += 1
        epoch = self._epoch
        principal = await self._inner.verify(token)
        expiry = token_expiry(token)
        if (
            expiry is not None
            and self._clock() < expiry
            and epoch == self._epoch
            and generation == self._keys.generation
        ):
            self._store(token, principal, expiry)
        return principal

    def _store(self, token: str, principal: Principal, expiry: float) -> None:
        entries = self._entries
        if len(entries) >= self._max_entries:
            now = self._clock()
            for stale in [key for key, (_, expires) in entries.items() if expires <= now]:
                del entries[stale]
            while len(entries) >= self._max_entries:
                del entries[next(iter(entries))]  # the oldest: dicts keep insertion order
        entries[token] = (principal, expiry)
