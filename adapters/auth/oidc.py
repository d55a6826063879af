"""The Keycloak (OpenID Connect) key source: discovery at start-up, the JWKS cached by ``kid``.

Start-up reads ``{issuer}/.well-known/openid-configuration`` and the key set at its ``jwks_uri``,
retrying a few times with backoff, and fails with an error naming the URL when the issuer does
not answer. While running:

- ``get(kid)`` is a dict lookup: the hot path never does I/O and never parses a key (keys are
  imported once per fetch, their ``cryptography`` objects built then);
- a background task refetches the key set when the response's ``Cache-Control: max-age`` runs
  out (every ``refresh_seconds`` without one), so a key removed upstream stops being accepted
  after the next refresh;
- a token naming an unknown ``kid`` may trigger one refetch (``refresh_for``): concurrent callers
  share the fetch in flight (single-flight), and at most one fetch starts per
  ``refetch_interval_seconds``, so a burst of forged kids cannot hammer the issuer;
- a failed refresh keeps the keys we have (the issuer being down must not log everyone out).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import msgspec
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey, import_key

from adapters.auth.keys import PublicKey

log = logging.getLogger(__name__)

DEFAULT_REFRESH_SECONDS = 600.0
MAX_CACHE_SECONDS = 86_400.0  # an absurd max-age would keep a removed key trusted for too long
RETRY_AFTER_FAILURE_SECONDS = 30.0
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])no-(?:cache|store)\b", re.IGNORECASE)


type _Outcome = tuple[bool, float | None]  # (fetched, the response's max-age)


class OidcStartupError(RuntimeError):
    """The issuer's discovery document or key set could not be read at start-up."""


class _FetchError(Exception):
    """One failed GET; the message names the URL and what went wrong."""


class OidcKeySource:
    """Implements ``KeySource`` for an OpenID Connect issuer (a Keycloak realm)."""

    def __init__(
        self,
        issuer: str,
        *,
        timeout_seconds: float = 5.0,
        refetch_interval_seconds: float = 10.0,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        startup_attempts: int = 4,
        startup_backoff_seconds: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuer = issuer.rstrip("/")
        self._timeout = timeout_seconds
        self._refetch_interval = refetch_interval_seconds
        self._refresh_seconds = refresh_seconds
        self._startup_attempts = max(1, startup_attempts)
        self._startup_backoff = startup_backoff_seconds
        self._transport = transport
        self._clock = clock
        self._client: httpx.AsyncClient | None = None
        self._jwks_uri: str | None = None
        self._keys: dict[str, PublicKey] = {}
        self._published: dict[str, dict[str, Any]] = {}
        self._generation = 0
        self._last_fetch = -math.inf
        self._inflight: asyncio.Future[_Outcome] | None = None
        self._task: asyncio.Task[None] | None = None

    # -- KeySource ------------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return self._issuer

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def discovery_url(self) -> str:
        return f"{self._issuer}/.well-known/openid-configuration"

    def get(self, kid: str) -> PublicKey | None:
        return self._keys.get(kid)

    async def refresh_for(self, kid: str) -> bool:
        if kid in self._keys:
            return True
        if self._inflight is None:
            if self._clock() - self._last_fetch < self._refetch_interval:
                log.info(
                    "unknown key %r: refetch skipped, the key set was fetched less than %ss ago",
                    kid[:64],
                    self._refetch_interval,
                )
                return False
            log.info("unknown key %r: refetching the key set", kid[:64])
        await self._refresh_shared()
        return kid in self._keys

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Discovery and the first key set, retried with backoff; then the background refresh."""
        self._client = httpx.AsyncClient(
            timeout=self._timeout,
            transport=self._transport,
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )
        delay = self._startup_backoff
        for attempt in range(1, self._startup_attempts + 1):
            try:
                self._jwks_uri = self._jwks_uri or await self._discover()
                max_age = await self._refresh()
                break
            except _FetchError as exc:
                if attempt == self._startup_attempts:
                    await self.close()
                    raise OidcStartupError(
                        f"OIDC_ISSUER {self._issuer}: cannot load its keys after {attempt} attempts: {exc}"
                    ) from None
                log.warning("OIDC start-up attempt %d/%d failed: %s", attempt, self._startup_attempts, exc)
                await asyncio.sleep(delay)
                delay *= 2
        log.info("OIDC issuer %s: %d signing keys from %s", self._issuer, len(self._keys), self._jwks_uri)
        self._task = asyncio.create_task(self._refresh_periodically(max_age), name="oidc-jwks-refresh")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # -- fetching -------------------------------------------------------------------------
    async def _refresh_periodically(self, max_age: float | None) -> None:
        delay = self._period(max_age)
        while True:
            await asyncio.sleep(delay)
            ok, max_age = await self._refresh_shared()
            delay = self._period(max_age) if ok else self._retry_delay()

    async def _refresh_shared(self) -> _Outcome:
        """One fetch for every concurrent caller; failures are logged, the keys we have are kept."""
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._refresh_logged())
            self._inflight.add_done_callback(self._clear_inflight)
        return await asyncio.shield(self._inflight)

    def _clear_inflight(self, _: object) -> None:
        self._inflight = None

    async def _refresh_logged(self) -> _Outcome:
        try:
            return True, await self._refresh()
        except _FetchError as exc:
            log.warning("JWKS refresh failed, keeping %d cached keys: %s", len(self._keys), exc)
            return False, None

    async def _discover(self) -> str:
        document = await self._get_json(self.discovery_url)
        if document.get("issuer") != self._issuer:
            raise _FetchError(
                f"GET {self.discovery_url}: the document names issuer {document.get('issuer')!r}, not {self._issuer!r}"
            )
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise _FetchError(f"GET {self.discovery_url}: no usable jwks_uri in the discovery document")
        return jwks_uri

    async def _refresh(self) -> float | None:
        """Fetch the key set and swap it in; return the response's max-age (None without one)."""
        assert self._jwks_uri is not None
        self._last_fetch = self._clock()
        response = await self._get(self._jwks_uri)
        document = _json_object(self._jwks_uri, response)
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise _FetchError(f"GET {self._jwks_uri}: no 'keys' list in the key set")
        keys, published = _signing_keys(entries, self._jwks_uri)
        if published != self._published:
            added = published.keys() - self._published.keys()
            removed = self._published.keys() - published.keys()
            self._keys, self._published = keys, published
            self._generation += 1
            log.info(
                "JWKS changed (generation %d): %d keys; added %s, removed %s",
                self._generation,
                len(keys),
                sorted(added) or "none",
                sorted(removed) or "none",
            )
        return _max_age(response.headers.get("cache-control"))

    async def _get_json(self, url: str) -> dict[str, Any]:
        return _json_object(url, await self._get(url))

    async def _get(self, url: str) -> httpx.Response:
        if self._client is None:
            raise _FetchError(f"GET {url}: the key source is not started")
        try:
            response = await self._client.get(url)
        except httpx.TimeoutException:
            raise _FetchError(f"GET {url}: no answer within {self._timeout}s") from None
        except httpx.HTTPError as exc:
            raise _FetchError(f"GET {url}: {type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            raise _FetchError(f"GET {url}: HTTP {response.status_code}")
        return response

    def _period(self, max_age: float | None) -> float:
        if max_age is None:
            return self._refresh_seconds
        # max-age=0 (or no-cache) would refetch in a loop: never sooner than one refetch interval.
        return min(max(max_age, self._refetch_interval, 1.0), MAX_CACHE_SECONDS)

    def _retry_delay(self) -> float:
        return min(self._refresh_seconds, max(self._refetch_interval, RETRY_AFTER_FAILURE_SECONDS))


def _json_object(url: str, response: httpx.Response) -> dict[str, Any]:
    try:
        document = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        raise _FetchError(f"GET {url}: the answer is not JSON") from None
    if not isinstance(document, dict):
        raise _FetchError(f"GET {url}: the answer is not a JSON object")
    return document


def _signing_keys(entries: list[Any], url: str) -> tuple[dict[str, PublicKey], dict[str, dict[str, Any]]]:
    """Public signature keys by kid (and their published JSON, to notice a change).

    Left out: entries without a kid, encryption keys (Keycloak publishes an RSA-OAEP one with
    ``use: enc``), symmetric or private keys, and entries that do not import.
    """
    keys: dict[str, PublicKey] = {}
    published: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid or entry.get("use", "sig") != "sig" or "d" in entry:
            continue
        try:
            key = import_key(entry)
        except (JoseError, ValueError, TypeError) as exc:
            log.warning("JWKS at %s: key %r skipped: %s", url, kid[:64], exc)
            continue
        if isinstance(key, RSAKey | ECKey | OKPKey) and not key.is_private:
            keys[kid] = key
            published[kid] = entry
    return keys, published


def _max_age(cache_control: str | None) -> float | None:
    if not cache_control:
        return None
    if _NO_CACHE.search(cache_control):
        return 0.0
    match = _MAX_AGE.search(cache_control)
    return float(match.group(1)) if match else None
