"""Settings from Consul KV: every key under a prefix, named as the environment variable it overrides.

``app/LOG_LEVEL`` = ``DEBUG`` becomes ``{"LOG_LEVEL": "DEBUG"}``. py-consul's asyncio client is used
(not ``consul-kv``) because it sends an ACL token and makes blocking queries: ``read(index=i,
wait_seconds=w)`` is held by Consul until something under the prefix changes or ``w`` passes, so a
change is seen at once without polling.

Every failure (refused, cut, timed out, a 5xx, an ACL refusal) becomes ``DependencyUnavailable``;
an ACL refusal is ``ConsulRefused``, which retrying at once will not cure.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import aiohttp
import consul
import consul.aio

from domain.errors import DependencyUnavailable

log = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": 8500, "https": 8501}


class ConsulRefused(DependencyUnavailable):
    """Consul answered and refused the request (an unknown token, or one lacking ``key:read``)."""


class ConsulKV:
    """Reads the keys directly under ``prefix``. Open it inside the event loop that uses it."""

    def __init__(self, url: str, token: str | None, prefix: str) -> None:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        self.url = url
        self._scheme = parts.scheme or "http"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or _DEFAULT_PORTS.get(self._scheme, 8500)
        self._token = token or None
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._client: consul.aio.Consul | None = None

    def _consul(self) -> consul.aio.Consul:
        if self._client is None:
            # py-consul 1.8 builds its aiohttp connector with arguments aiohttp deprecates
            # (ssl_context, verify_ssl); the warning is theirs, and pytest makes ours errors.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "(ssl_context|verify_ssl) is deprecated", DeprecationWarning)
                self._client = consul.aio.Consul(
                    host=self._host,
                    port=self._port,
                    scheme=self._scheme,
                    # py-consul builds an SSL context (~0.3 s of loading CA certificates) unless told
                    # not to verify; plain http has nothing to verify
                    verify=self._scheme == "https",
                )
        return self._client

    async def read(self, *, index: int = 0, wait_seconds: float = 0.0, timeout: float) -> tuple[int, dict[str, str]]:
        """``(index, values)``. With ``index`` > 0 this is a blocking query held up to ``wait_seconds``.

        ``timeout`` bounds the whole request; for a blocking query it must exceed the wait plus the
        wait/16 jitter Consul adds.
        """
        try:
            consul_index, entries = await self._consul().kv.get(
                self.prefix,
                recurse=True,
                index=str(index) if index > 0 else None,
                wait=f"{wait_seconds:g}s" if index > 0 else None,
                # per call, so that CONSUL_TOKEN wins over a CONSUL_HTTP_TOKEN in the environment
                token=self._token,
                connections_timeout=timeout,
            )
        except consul.ACLPermissionDenied as exc:
            raise ConsulRefused("consul", f"Consul at {self.url} refused the ACL token: {exc}") from None
        except (aiohttp.ClientError, TimeoutError, consul.ConsulException) as exc:
            reason = (
                f"no answer within {timeout:g}s" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
            )
            raise DependencyUnavailable("consul", f"Consul at {self.url} is unreachable: {reason}") from None
        return int(consul_index or 0), self._values(entries or [])

    def _values(self, entries: list[dict[str, object]]) -> dict[str, str]:
        values: dict[str, str] = {}
        for entry in entries:
            name = str(entry["Key"])[len(self.prefix) :]
            if not name or "/" in name:
                continue  # the folder itself, or a deeper key: not one of our variables
            raw = entry.get("Value")
            values[name] = raw.decode("utf-8", "replace").strip() if isinstance(raw, bytes) else ""
        return values

    async def read_within(self, seconds: float) -> dict[str, str]:
        """One plain read, retried while Consul is unreachable for at most ``seconds`` in all."""
        deadline = time.monotonic() + seconds
        delay = 0.1
        while True:
            remaining = deadline - time.monotonic()
            try:
                return (await self.read(timeout=max(remaining, 0.05)))[1]
            except ConsulRefused:
                raise
            except DependencyUnavailable:
                remaining = deadline - time.monotonic()
                if remaining <= delay:
                    raise
                log.debug("Consul at %s not reachable yet; retrying in %.1fs", self.url, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()


def read_consul_now(url: str, token: str | None, prefix: str, within_seconds: float) -> dict[str, str]:
    """The keys under ``prefix``, read synchronously within ``within_seconds`` (for start-up and the CLI).

    Runs the asyncio client on a fresh event loop in a short-lived thread, so it works whether or
    not the caller is inside an event loop, and never touches the caller's loop: Granian sets its
    worker's (not yet running) loop as the current one before it imports ``app.main:app``, and
    ``asyncio.run`` in that thread would unset it on the way out.
    """

    async def read() -> dict[str, str]:
        source = ConsulKV(url, token, prefix)
        try:
            return await source.read_within(within_seconds)
        finally:
            await source.aclose()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="consul-startup") as pool:
        return pool.submit(lambda: asyncio.run(read())).result()
