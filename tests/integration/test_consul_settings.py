"""Settings from Consul KV, against the Consul stand-in with the real py-consul client.

Start-up (``load_startup_settings``), ``just config``, the live settings store and the reload
loop on their own; tests/api/test_consul_reload_api.py shows reloads through the HTTP API.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.config.consul import ConsulKV, ConsulRefused
from app import cli
from app.live_settings import SettingsStore, follow
from app.main import create_app
from app.settings import SettingsError
from app.settings_layers import as_loaded, decode_settings, with_layer
from app.startup_settings import load_startup_settings
from domain.errors import DependencyUnavailable
from tests.support.eventually import eventually, log_count
from tests.support.fake_consul import FakeConsul
from tests.support.fake_openfga import MODEL_ID, STORE_ID

TOKEN = "s3cret"


@pytest.fixture
def consul() -> Iterator[FakeConsul]:
    with FakeConsul(required_token=TOKEN) as server:
        server.put("app/LOG_LEVEL", "DEBUG")
        server.put("app/OIDC_AUDIENCE", "blog")
        server.put("app/deeper/LOG_LEVEL", "ERROR")  # not directly under the prefix: ignored
        server.put("other/LOG_LEVEL", "CRITICAL")
        yield server


@pytest.fixture
def closed_port_url() -> str:
    """A URL nothing listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def consul_env(url: str, **extra: str) -> dict[str, str]:
    return {"CONSUL_URL": url, "CONSUL_TOKEN": TOKEN, "CONSUL_TIMEOUT_SECONDS": "0.5", **extra}


# -- the adapter ----------------------------------------------------------------------------
async def test_reads_the_keys_under_the_prefix_with_the_acl_token(consul: FakeConsul) -> None:
    source = ConsulKV(consul.url, TOKEN, "app")  # the trailing slash is added
    try:
        index, values = await source.read(timeout=2)
    finally:
        await source.aclose()
    assert values == {"LOG_LEVEL": "DEBUG", "OIDC_AUDIENCE": "blog"}
    assert index == consul.entry("app/deeper/LOG_LEVEL").modify_index  # type: ignore[union-attr]
    requests = consul.requests_to("/v1/kv/app/", "GET")
    assert requests
    assert all(r.headers.get("x-consul-token") == TOKEN for r in requests)


async def test_a_blocking_read_returns_when_a_key_changes(consul: FakeConsul) -> None:
    source = ConsulKV(consul.url, TOKEN, "app/")
    try:
        index, _ = await source.read(timeout=2)
        waiting = asyncio.create_task(source.read(index=index, wait_seconds=30, timeout=35))
        await asyncio.to_thread(consul.wait_for_blocked_queries)
        consul.put("app/LOG_LEVEL", "WARNING")
        new_index, values = await waiting
    finally:
        await source.aclose()
    assert new_index > index
    assert values["LOG_LEVEL"] == "WARNING"


async def test_wrong_token_and_no_server_are_unavailable(consul: FakeConsul, closed_port_url: str) -> None:
    wrong, nobody = ConsulKV(consul.url, "wrong", "app/"), ConsulKV(closed_port_url, TOKEN, "app/")
    try:
        with pytest.raises(ConsulRefused, match="refused the ACL token: ACL not found"):
            await wrong.read(timeout=2)
        with pytest.raises(DependencyUnavailable, match="is unreachable"):
            await nobody.read(timeout=2)
    finally:
        await wrong.aclose()
        await nobody.aclose()


# -- start-up ---------------------------------------------------------------------------------
def test_startup_consul_overrides_environment_and_dotenv(consul: FakeConsul, tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("LOG_LEVEL=INFO\nOIDC_ADMIN_ROLE=boss\n")
    loaded = load_startup_settings(consul_env(consul.url, LOG_LEVEL="WARNING", OIDC_AUDIENCE="env"), dotenv)

    assert (loaded.settings.log_level, loaded.sources["LOG_LEVEL"]) == ("DEBUG", "consul")
    assert (loaded.settings.oidc_audience, loaded.sources["OIDC_AUDIENCE"]) == ("blog", "consul")
    assert (loaded.settings.oidc_admin_role, loaded.sources["OIDC_ADMIN_ROLE"]) == ("boss", ".env")
    assert loaded.sources["CONSUL_URL"] == "env"


# region: openfga
def test_values_only_in_consul_complete_the_settings_before_they_are_checked(
    consul: FakeConsul, tmp_path: Path
) -> None:
    # compose passes OPENFGA_API_URL in the environment; the store and model ids exist only in Consul
    environ = consul_env(consul.url, OPENFGA_API_URL="http://openfga:8080")
    with pytest.raises(SettingsError, match="OPENFGA_STORE_ID"):
        decode_settings([("env", environ)])
    consul.put("app/OPENFGA_STORE_ID", STORE_ID)
    consul.put("app/OPENFGA_MODEL_ID", MODEL_ID)

    loaded = load_startup_settings(environ, tmp_path / "no.env")
    assert loaded.settings.openfga_store_id == STORE_ID
    assert loaded.sources["OPENFGA_MODEL_ID"] == "consul"


# endregion


def test_consul_required_and_down_stops_startup_with_a_clear_error(
    closed_port_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in consul_env(closed_port_url, CONSUL_REQUIRED="true", ENV_FILE=str(tmp_path / "none")).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        create_app()  # what Granian's import of app.main:app runs
    assert str(caught.value).startswith("CONSUL_REQUIRED=true and the settings could not be read: ")
    assert f"Consul at {closed_port_url} is unreachable" in str(caught.value)


def test_consul_required_and_refusing_the_token_is_a_startup_error(consul: FakeConsul, tmp_path: Path) -> None:
    environ = consul_env(consul.url, CONSUL_REQUIRED="true", CONSUL_TOKEN="wrong")
    with pytest.raises(SettingsError, match="refused the ACL token"):
        load_startup_settings(environ, tmp_path / "none")


def test_consul_down_and_not_required_starts_on_the_environment_with_a_warning(
    closed_port_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loaded = load_startup_settings(consul_env(closed_port_url, LOG_LEVEL="ERROR"), tmp_path / "none")
    assert (loaded.settings.log_level, loaded.sources["LOG_LEVEL"]) == ("ERROR", "env")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("is unreachable" in m and "using the environment and .env values" in m for m in warnings)


def test_startup_waits_for_consul_to_come_up_within_the_bound(consul: FakeConsul, tmp_path: Path) -> None:
    consul.stop()
    comes_up = threading.Timer(0.3, consul.start)
    comes_up.start()
    try:
        loaded = load_startup_settings(consul_env(consul.url, CONSUL_TIMEOUT_SECONDS="10"), tmp_path / "none")
    finally:
        comes_up.join()
    assert loaded.sources["LOG_LEVEL"] == "consul"


def test_just_config_shows_consul_values_with_their_source_and_redacts_secrets(
    consul: FakeConsul, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    consul.put("app/KEYCLOAK_WEBHOOK_SECRET", "hush-hush")
    for name, value in consul_env(consul.url, LOG_LEVEL="INFO", ENV_FILE=str(tmp_path / "none")).items():
        monkeypatch.setenv(name, value)

    assert cli.main(["config"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}

    assert lines["LOG_LEVEL"].split()[1:] == ["DEBUG", "(consul)"]
    assert lines["OIDC_AUDIENCE"].split()[1:] == ["blog", "(consul)"]
    assert lines["KEYCLOAK_WEBHOOK_SECRET"].split()[1:] == ["********", "(consul)"]
    assert lines["CONSUL_TOKEN"].split()[1:] == ["********", "(env)"]
    assert lines["OIDC_ADMIN_ROLE"].split()[1:] == ["admin", "(default)"]
    assert "hush-hush" not in "".join(lines.values())
    assert TOKEN not in "".join(lines.values())


# -- the live settings store ------------------------------------------------------------------
def test_settings_given_as_an_object_round_trip_through_their_environment_form() -> None:
    environ = {"DB_AUTO_MIGRATE": "false", "OIDC_AUDIENCE": "blog", "MAINTENANCE_CACHE_SECONDS": "0.5"}
    settings = decode_settings([("env", environ)]).settings
    loaded = as_loaded(settings)
    assert loaded.settings == settings
    assert with_layer(loaded, "consul", {}).settings == settings  # a reload without Consul keys changes nothing
    assert dict(loaded.layers)["env"]["MAINTENANCE_CACHE_SECONDS"] == "0.5"


def test_store_applies_live_keys_and_keeps_restart_only_ones() -> None:
    store = SettingsStore(decode_settings([("env", {"DB_POOL_MAX": "10"})]))
    seen: list[tuple[str, str | None]] = []
    store.subscribe(lambda s: seen.append((s.oidc_admin_role, s.oidc_audience)), "OIDC_ADMIN_ROLE", "OIDC_AUDIENCE")
    store.subscribe(lambda s: seen.append(("cors", s.cors_origins)), "CORS_ORIGINS")

    change = store.replace(with_layer(store.loaded, "consul", {"OIDC_ADMIN_ROLE": "editor", "DB_POOL_MAX": "5"}))

    assert change.applied == {"OIDC_ADMIN_ROLE"}
    assert change.needs_restart == {"DB_POOL_MAX"}
    assert seen == [("editor", None)]  # the CORS applier was not called: nothing of its changed
    assert (store.current.oidc_admin_role, store.current.db_pool_max) == ("editor", 10)
    assert store.loaded.settings.db_pool_max == 5  # known, waiting for a restart


def test_store_refuses_to_make_a_restart_only_or_unknown_key_live() -> None:
    store = SettingsStore(decode_settings([]))
    with pytest.raises(ValueError, match="restart-only \\['DATABASE_URL'\\]"):
        store.subscribe(print, "DATABASE_URL")
    with pytest.raises(ValueError, match="unknown \\['LOGLEVEL'\\]"):
        store.declare_live("LOGLEVEL")
    with pytest.raises(ValueError, match="no keys"):
        store.subscribe(print)


def test_a_failing_applier_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    store = SettingsStore(decode_settings([]))
    applied: list[str] = []

    def broken(_: object) -> None:
        raise RuntimeError("boom")

    store.subscribe(broken, "LOG_LEVEL")
    store.subscribe(lambda s: applied.append(s.log_level), "LOG_LEVEL")
    store.replace(with_layer(store.loaded, "consul", {"LOG_LEVEL": "DEBUG"}))
    assert applied == ["DEBUG"]
    assert any(r.levelno == logging.ERROR and "applying LOG_LEVEL failed" in r.getMessage() for r in caplog.records)


# -- the reload loop --------------------------------------------------------------------------
async def test_follow_applies_changes_rejects_bad_values_and_rides_out_an_outage(
    consul: FakeConsul, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.live_settings")
    store = SettingsStore(decode_settings([("env", {"CONSUL_POLL_SECONDS": "1", "CONSUL_TIMEOUT_SECONDS": "1"})]))
    store.declare_live("CONSUL_POLL_SECONDS", "CONSUL_TIMEOUT_SECONDS")
    store.subscribe(lambda s: None, "LOG_LEVEL", "OIDC_AUDIENCE")
    source = ConsulKV(consul.url, TOKEN, "app/")
    watcher = asyncio.create_task(follow(store, source))
    try:
        await eventually(lambda: store.current.log_level == "DEBUG", "the first read applied")

        consul.put("app/LOG_LEVEL", "LOUD")  # not a level: the whole new settings object is refused
        await eventually(lambda: log_count(caplog, logging.ERROR, "rejected", "LOG_LEVEL='LOUD'") == 1, "rejection")
        consul.put("app/OIDC_AUDIENCE", "other")  # a good value, but the bad one is still there
        await eventually(lambda: log_count(caplog, logging.ERROR, "rejected") == 2, "second rejection")
        assert (store.current.log_level, store.current.oidc_audience) == ("DEBUG", "blog")

        consul.put("app/LOG_LEVEL", "WARNING")
        await eventually(lambda: store.current.oidc_audience == "other", "applied once the bad value is fixed")
        assert store.current.log_level == "WARNING"

        await asyncio.to_thread(consul.wait_for_blocked_queries)
        consul.stop()
        await eventually(lambda: log_count(caplog, logging.WARNING, "is unreachable", "keeping") == 1, "outage seen")
        consul.put("app/LOG_LEVEL", "ERROR")  # changed while the watcher cannot see it
        assert store.current.log_level == "WARNING"
        consul.start()
        await eventually(lambda: store.current.log_level == "ERROR", "recovered after the outage")
        assert log_count(caplog, logging.INFO, "answers again") == 1
        assert log_count(caplog, logging.WARNING, "is unreachable") == 1  # once per outage, not per retry
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        await source.aclose()
    assert watcher.cancelled()


async def test_follow_deleting_a_key_falls_back_to_the_environment(consul: FakeConsul) -> None:
    loaded = with_layer(decode_settings([("env", {"OIDC_AUDIENCE": "env-aud"})]), "consul", {"OIDC_AUDIENCE": "blog"})
    store = SettingsStore(loaded)
    store.subscribe(lambda s: None, "OIDC_AUDIENCE")
    source = ConsulKV(consul.url, TOKEN, "app/")
    watcher = asyncio.create_task(follow(store, source))
    try:
        await asyncio.to_thread(consul.wait_for_blocked_queries)
        consul.delete("app/OIDC_AUDIENCE")
        await eventually(lambda: store.current.oidc_audience == "env-aud", "back to the environment's value")
        assert store.loaded.sources["OIDC_AUDIENCE"] == "env"
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        await source.aclose()


# region: openfga
def test_relay_timing_is_a_live_setting(tmp_path: Path) -> None:
    from adapters.authz.relay import OutboxRelay
    from app.container import build_container
    from app.live_settings import SettingsStore
    from app.settings_layers import decode_settings as decode

    env = {
        "APP_ENV": "test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "OPENFGA_API_URL": "http://127.0.0.1:9",
        "OPENFGA_STORE_ID": STORE_ID,
        "OPENFGA_MODEL_ID": MODEL_ID,
    }
    container = build_container(decode([("env", env)]))
    relay = container[OutboxRelay]
    store = container[SettingsStore]
    change = store.replace(decode([("env", env), ("consul", {"OUTBOX_POLL_SECONDS": "0.5", "OUTBOX_BATCH_SIZE": "7"})]))
    assert {"OUTBOX_POLL_SECONDS", "OUTBOX_BATCH_SIZE"} <= set(change.applied)
    assert (relay._settings.poll_seconds, relay._settings.batch_size) == (0.5, 7)


# endregion


def test_webhook_secret_is_a_live_setting(tmp_path: Path) -> None:
    import hashlib
    import hmac

    from app.container import build_container
    from app.live_settings import SettingsStore
    from app.settings_layers import decode_settings as decode
    from domain.errors import DependencyUnavailable
    from domain.users import UserEventSource

    env = {"APP_ENV": "test", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    container = build_container(decode([("env", env)]))
    events = container[UserEventSource]  # type: ignore[type-abstract]
    body = b'{"resourceType": "REALM", "operationType": "UPDATE"}'
    with pytest.raises(DependencyUnavailable):
        events.read(body, "00")

    change = container[SettingsStore].replace(decode([("env", env), ("consul", {"KEYCLOAK_WEBHOOK_SECRET": "s3"})]))
    assert "KEYCLOAK_WEBHOOK_SECRET" in change.applied
    signature = hmac.new(b"s3", body, hashlib.sha256).hexdigest()
    assert events.read(body, signature) is None  # accepted, and ignored: not a USER event


# region: openfga
# region: blog
async def test_a_new_openfga_model_id_applies_while_running(tmp_path: Path) -> None:
    """bootstrap.sh publishes a new model's id to Consul: checks use it from then on, no restart."""
    now = datetime(2026, 3, 1, tzinfo=UTC)
    from adapters.authz.openfga import OpenFga
    from app.container import build_container
    from app.settings_layers import decode_settings as decode
    from domain.ports import Authorizer
    from domain.posts import Post
    from tests.fakes import principal
    from tests.support.fake_openfga import FakeOpenFGA, new_ulid

    new_model = new_ulid()
    with FakeOpenFGA(model_id=new_model) as server:  # the server holds only the new model
        env = {
            "APP_ENV": "test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            "OPENFGA_API_URL": server.url,
            "OPENFGA_STORE_ID": STORE_ID,
            "OPENFGA_MODEL_ID": MODEL_ID,  # the old one, unknown to the server
        }
        container = build_container(decode([("env", env)]))
        fga, authorizer = container[OpenFga], container[Authorizer]  # type: ignore[type-abstract]
        alice = principal("alice")
        post = Post(id=uuid.uuid4(), owner_id=alice.id, content="x", created_at=now, updated_at=now)
        await fga.open()
        try:
            with pytest.raises(DependencyUnavailable):  # the server refuses the unknown model
                await authorizer.is_allowed(alice, "can_update", post)
            store = container[SettingsStore]
            change = store.replace(decode([("env", env), ("consul", {"OPENFGA_MODEL_ID": new_model})]))
            assert "OPENFGA_MODEL_ID" in change.applied
            assert not change.needs_restart
            assert await authorizer.is_allowed(alice, "can_update", post)
            checks = server.requests_to(f"/stores/{STORE_ID}/check")
            assert checks[-1].json()["authorization_model_id"] == new_model
        finally:
            await fga.close()


# endregion
# endregion
