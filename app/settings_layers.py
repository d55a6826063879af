"""The settings' layers: defaults < .env < the environment < Consul KV (app/startup_settings.py,
app/live_settings.py), merged into one Settings that remembers which layer each value came from, so
that a reload can swap the Consul layer alone and `just config` can say where a value came from."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

from app.settings import FIELDS, SECRETS, Settings, SettingsError

type Source = Literal["default", ".env", "env", "consul"]


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments skipped; optional quotes and `export` stripped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


type Layer = tuple[Source, Mapping[str, str]]


class LoadedSettings(msgspec.Struct, frozen=True):
    settings: Settings
    raw: dict[str, str]
    sources: dict[str, Source]
    # what it was decoded from (our variables only), so a reload can swap the Consul layer
    layers: tuple[tuple[Source, dict[str, str]], ...] = ()


def decode_settings(layers: list[Layer]) -> LoadedSettings:
    """Merge layers (later wins) of raw strings, keeping only our variables, and validate."""
    raw: dict[str, str] = {}
    sources: dict[str, Source] = {}
    for source, values in layers:
        for name in FIELDS:
            if name in values:
                raw[name] = values[name]
                sources[name] = source
    try:
        settings = msgspec.convert(
            {name: (None if value == "" and _optional(name) else value) for name, value in raw.items()},
            Settings,
            strict=False,
        )
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(exc, raw)) from None
    ours = tuple((source, {name: values[name] for name in FIELDS if name in values}) for source, values in layers)
    return LoadedSettings(settings=settings.check(), raw=raw, sources=sources, layers=ours)


def with_layer(loaded: LoadedSettings, source: Source, values: Mapping[str, str]) -> LoadedSettings:
    """The same layers with ``source``'s replaced by ``values`` (on top), validated; raises SettingsError."""
    return decode_settings([*(layer for layer in loaded.layers if layer[0] != source), (source, values)])


def as_loaded(settings: Settings) -> LoadedSettings:
    """A Settings object as if it had come from the environment (tests build containers this way)."""
    encoded = msgspec.to_builtins(settings)
    return decode_settings([("env", {name: _text(encoded[name]) for name in FIELDS if encoded.get(name) is not None})])


def read_layers(environ: Mapping[str, str] | None = None, dotenv: Path | None = None) -> list[Layer]:
    """The layers below Consul: .env, then the environment."""
    environ = os.environ if environ is None else environ
    return [
        (".env", read_dotenv(dotenv if dotenv is not None else Path(environ.get("ENV_FILE", ".env")))),
        ("env", environ),
    ]


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = None, consul: Mapping[str, str] | None = None
) -> LoadedSettings:
    layers = read_layers(environ, dotenv)
    if consul:
        layers.append(("consul", consul))
    return decode_settings(layers)


def redacted(loaded: LoadedSettings) -> dict[str, tuple[str, Source]]:
    """Every effective setting as (value, source) with secrets masked — for `just config`."""
    encoded = msgspec.to_builtins(loaded.settings)
    out: dict[str, tuple[str, Source]] = {}
    for name in FIELDS:
        value = encoded.get(name)
        text = _text(value)
        if name in SECRETS and text:
            text = _mask_url(text) if name == "DATABASE_URL" else "********"
        out[name] = (text, loaded.sources.get(name, "default"))
    return out


def _text(value: object) -> str:
    """A decoded value as the string it would be in the environment."""
    return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _mask_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:********@{host}"


_OPTIONAL = {f.encode_name for f in msgspec.structs.fields(Settings) if f.default is None}


def _optional(name: str) -> bool:
    return name in _OPTIONAL


def _explain(exc: msgspec.ValidationError, raw: Mapping[str, str]) -> str:
    message = str(exc)
    text, _, path = message.rpartition(" - at `$.")
    if not path:
        return f"invalid settings: {message}"
    name = path.rstrip("`")
    return f"{name}={raw.get(name, '')!r} is invalid: {text}"
