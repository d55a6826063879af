"""The settings a process starts with: .env < environment < Consul KV (when CONSUL_URL is set).

Consul is read before anything is validated, because some values may come only from it (in
compose, ids that a set-up job publishes there). The read is bounded by CONSUL_TIMEOUT_SECONDS; if Consul
does not answer, CONSUL_REQUIRED=true stops start-up, otherwise the service starts on the other
sources with a warning and the reload watcher (app/lifecycle.py) applies Consul once it answers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from app.live_settings import warn_unknown_keys
from app.settings import SettingsError
from app.settings_layers import Layer, LoadedSettings, decode_settings, read_layers
from domain.errors import DependencyUnavailable

log = logging.getLogger(__name__)


def load_startup_settings(environ: Mapping[str, str] | None = None, dotenv: Path | None = None) -> LoadedSettings:
    """Every source read and validated together; a bad value raises ``SettingsError`` naming it."""
    layers = read_layers(environ, dotenv)
    # region: consul
    consul = _read_consul(layers)
    if consul is not None:
        layers = [*layers, ("consul", consul)]
    # endregion
    return decode_settings(layers)


# region: consul
def _read_consul(layers: list[Layer]) -> dict[str, str] | None:
    """What Consul KV holds under the prefix; None where Consul is not configured or does not answer."""
    consul_only: list[Layer] = [
        (source, {k: v for k, v in values.items() if k.startswith("CONSUL_")}) for source, values in layers
    ]
    wiring = decode_settings(consul_only).settings
    if wiring.consul_url is None:
        return None
    from adapters.config.consul import read_consul_now  # py-consul only where Consul is configured

    try:
        values = read_consul_now(
            wiring.consul_url, wiring.consul_token, wiring.consul_prefix, wiring.consul_timeout_seconds
        )
    except DependencyUnavailable as exc:
        if wiring.consul_required:
            raise SettingsError(f"CONSUL_REQUIRED=true and the settings could not be read: {exc}") from None
        log.warning("%s; using the environment and .env values until Consul answers", exc)
        return None
    log.info("settings from Consul (%s under %r): %s", wiring.consul_url, wiring.consul_prefix, ", ".join(values))
    warn_unknown_keys(values, f"Consul under {wiring.consul_prefix!r}")
    return values


# endregion
