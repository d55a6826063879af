"""The one live holder of the settings, and the loop that keeps it in step with Consul KV.

``SettingsStore.current`` is the Settings the process runs on. A reload hands ``replace()`` a whole
new, already validated LoadedSettings; only the keys something in the process declared live are
applied (``current`` changes, the subscribers of those keys are called), every other changed key
is logged as needing a restart and keeps its running value. A key is live when the composition
root says so, with one line next to what applies it::

    store.subscribe(lambda s: verifier.configure(verifier_config(s)), "OIDC_AUDIENCE", "OIDC_ADMIN_ROLE")
    store.declare_live("MAINTENANCE_CACHE_SECONDS")  # read from store.current on every use
``follow(store, source)`` is the reload loop: Consul blocking queries on the prefix, a bad value
logged and ignored (the last good settings stay), Consul down → keep everything, retry with
backoff, pick up what changed once it answers again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Protocol

import msgspec

from app.settings import FIELDS, RESTART_REQUIRED, Settings, SettingsError
from app.settings_layers import LoadedSettings, with_layer
from domain.errors import DependencyUnavailable

log = logging.getLogger(__name__)

_ATTRIBUTES = {field.encode_name: field.name for field in msgspec.structs.fields(Settings)}

type Applier = Callable[[Settings], object]


class Change(msgspec.Struct, frozen=True):
    applied: frozenset[str] = frozenset()  # changed and now in effect
    needs_restart: frozenset[str] = frozenset()  # changed, but the process keeps the running value


class SettingsStore:
    def __init__(self, loaded: LoadedSettings) -> None:
        self._loaded = loaded
        self._current = loaded.settings
        self._live: set[str] = set()
        self._subscribers: list[tuple[frozenset[str], Applier]] = []

    @property
    def current(self) -> Settings:
        """What the process runs on now."""
        return self._current

    @property
    def loaded(self) -> LoadedSettings:
        """The last validated settings from every source (restart-only keys included), with their layers."""
        return self._loaded

    def declare_live(self, *keys: str) -> None:
        """These keys take effect without a restart: code reads them from ``current`` on each use."""
        unknown = [key for key in keys if key not in _ATTRIBUTES]
        fixed = [key for key in keys if key in RESTART_REQUIRED]
        if not keys or unknown or fixed:
            raise ValueError(f"cannot make live: unknown {unknown}, restart-only {fixed}" if keys else "no keys given")
        self._live.update(keys)

    def subscribe(self, applier: Applier, *keys: str) -> None:
        """Call ``applier(settings)`` after any of ``keys`` changed; they become live."""
        self.declare_live(*keys)
        self._subscribers.append((frozenset(keys), applier))

    def replace(self, loaded: LoadedSettings) -> Change:
        """Take new validated settings: apply the live keys that changed, report the others."""
        old, new = self._loaded.settings, loaded.settings
        changed = {key for key in FIELDS if getattr(old, _ATTRIBUTES[key]) != getattr(new, _ATTRIBUTES[key])}
        self._loaded = loaded
        applied = frozenset(changed & self._live)
        needs_restart = frozenset(
            key
            for key in changed - applied
            if getattr(new, _ATTRIBUTES[key]) != getattr(self._current, _ATTRIBUTES[key])
        )
        if needs_restart:
            log.warning(
                "settings changed that are read only at start-up: %s; restart the service to apply them "
                "(it runs on the previous values until then)",
                ", ".join(sorted(needs_restart)),
            )
        if applied:
            self._current = msgspec.structs.replace(
                self._current, **{_ATTRIBUTES[key]: getattr(new, _ATTRIBUTES[key]) for key in applied}
            )
            for keys, applier in self._subscribers:
                if keys & applied:
                    try:
                        applier(self._current)
                    except Exception:  # one broken applier must not stop the others, nor the watcher
                        log.exception("applying %s failed", ", ".join(sorted(keys & applied)))
            log.info("settings applied without restart: %s", ", ".join(sorted(applied)))
        return Change(applied=applied, needs_restart=needs_restart)


# region: consul
class ConfigSource(Protocol):
    """Consul KV as the reload loop sees it (adapters/config/consul.py: ConsulKV)."""

    url: str
    prefix: str

    async def read(self, *, index: int = 0, wait_seconds: float = 0.0, timeout: float) -> tuple[int, dict[str, str]]:
        """``(index, values)``; with ``index`` > 0, held until the index moves past it or the wait ends."""
        ...


# endregion


def warn_unknown_keys(values: dict[str, str], where: str) -> None:
    """A key that names no setting is ignored; say so, since it is most likely a typo."""
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        log.warning("ignoring keys in %s that name no setting: %s", where, ", ".join(unknown))


# region: consul
# A blocking query may be held wait + wait/16 (Consul's jitter); the timeout leaves that room.
_JITTER = 17 / 16
_FIRST_RETRY_SECONDS = 0.2


async def follow(store: SettingsStore, source: ConfigSource) -> None:
    """Keep ``store`` in step with ``source`` until cancelled. Never raises."""
    index = 0
    retry_in = _FIRST_RETRY_SECONDS
    down = False
    while True:
        settings = store.current
        wait = settings.consul_poll_seconds
        try:
            new_index, values = await source.read(
                index=index, wait_seconds=wait, timeout=wait * _JITTER + settings.consul_timeout_seconds
            )
        except Exception as exc:
            if not down:
                if isinstance(exc, DependencyUnavailable):
                    log.warning("%s; keeping the current settings and retrying", exc)
                else:
                    log.exception("reading settings from Consul failed; keeping the current settings and retrying")
            down = True
            index = 0  # start over with a plain read once it answers: the index may have been reset
            await asyncio.sleep(retry_in * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not a secret
            retry_in = min(retry_in * 2, max(settings.consul_poll_seconds, _FIRST_RETRY_SECONDS))
            continue
        if down:
            log.info("Consul at %s answers again", source.url)
            down, retry_in = False, _FIRST_RETRY_SECONDS
        if new_index == index > 0:
            continue  # the wait ended with nothing changed
        # Consul's rules for blocking queries: an index that goes backwards means a reset; never send 0.
        index = max(new_index, 1) if new_index >= index else 0
        warn_unknown_keys(values, f"Consul under {source.prefix!r}")
        try:
            loaded = with_layer(store.loaded, "consul", values)
        except SettingsError as exc:
            log.error("settings from Consul rejected, the last good ones stay: %s", exc)
            continue
        try:
            store.replace(loaded)
        except Exception:  # a bug here must not end the watcher: the next change gets another chance
            log.exception("applying settings from Consul failed")


# endregion
