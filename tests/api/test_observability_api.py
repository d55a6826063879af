"""Request ids, structured logs (one access line per request), live settings, /metrics."""

from __future__ import annotations

import contextlib
import json
import logging
import math
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import get
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from app import logging as app_logging
from app.live_settings import SettingsStore
from app.main import create_app
from app.maintenance import MaintenanceGate
from app.metrics import Metrics
from app.settings import Settings
from app.settings_layers import with_layer
from tests.integration.test_deploy_files import dashboard_metric_names
from tests.support.fake_openfga import FakeOpenFGA
from tests.support.openfga import openfga_env
from tests.support.problems import assert_problem


def json_lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def access_lines(captured: str, request_id: str) -> list[dict[str, Any]]:
    return [e for e in json_lines(captured) if e.get("event") == "request" and e.get("request_id") == request_id]


@pytest.fixture
async def observed(engine: Any, make_container: Any) -> AsyncIterator[tuple[AsyncTestClient[Any], Any]]:
    container = make_container(LOG_FORMAT="json", METRICS_ENABLED="true")
    app = create_app(container)

    @get("/test/log-inside", include_in_schema=False, opt={"maintenance_exempt": True})
    async def log_inside() -> dict[str, str]:
        logging.getLogger("some.library").warning("a library speaks")
        return {}

    app.register(log_inside)
    async with AsyncTestClient(app=app) as client:
        yield client, container


async def test_a_valid_request_id_is_echoed_and_bound_to_every_line(observed, keys, capsys):
    client, _ = observed
    capsys.readouterr()
    response = await client.get("/test/log-inside", headers={"X-Request-ID": "req-42.a:b"})
    assert response.headers["x-request-id"] == "req-42.a:b"
    lines = [e for e in json_lines(capsys.readouterr().out) if e.get("request_id") == "req-42.a:b"]
    assert {e["event"] for e in lines} == {"a library speaks", "request"}
    library = next(e for e in lines if e["event"] == "a library speaks")
    assert (library["logger"], library["level"]) == ("some.library", "warning")


@pytest.mark.parametrize("sent", [None, "", "x" * 129, "has space", "tab\tin", 'quote"', "é".encode()])
async def test_a_missing_or_bad_request_id_is_replaced(observed, sent):
    client, _ = observed
    headers = {} if sent is None else {"X-Request-ID": sent}
    first = (await client.get("/health/live", headers=headers)).headers["x-request-id"]
    second = (await client.get("/health/live", headers=headers)).headers["x-request-id"]
    assert first != second
    assert len(first) == 32
    int(first, 16)


async def test_one_access_line_per_request_with_the_route_template(observed, keys, capsys):
    client, _ = observed
    capsys.readouterr()
    response = await client.get("/v1/users/not-a-uuid", headers={**keys.headers(), "X-Request-ID": "one"})
    assert response.status_code == 400
    await client.get("/no/such/route", headers={"X-Request-ID": "two"})
    out = capsys.readouterr().out

    (line,) = access_lines(out, "one")
    assert line["method"] == "GET"
    assert line["path"] == "/v1/users/{user_id}", "the template, never the raw path"
    assert line["status"] == 400
    assert line["duration_ms"] >= 0
    assert line["logger"] == "app.access"
    assert "not-a-uuid" not in json.dumps(line)
    (unmatched,) = access_lines(out, "two")
    assert (unmatched["path"], unmatched["status"]) == ("unmatched", 404)


async def test_library_loggers_print_once_through_the_same_format(observed, capsys):
    # Granian's dictConfig gives its loggers handlers of their own; apply() takes them away.
    granian = logging.getLogger("_granian")
    granian.addHandler(logging.StreamHandler())
    granian.propagate = False
    _, container = observed
    app_logging.apply(container[Settings])
    capsys.readouterr()
    for name in ("_granian", "litestar", "piccolo.engine", "uvicorn.error"):
        logging.getLogger(name).warning("hello from %s", name)
    captured = capsys.readouterr()
    for name in ("_granian", "litestar", "piccolo.engine", "uvicorn.error"):
        assert captured.out.count(f"hello from {name}") == 1
        assert f"hello from {name}" not in captured.err
    assert all(line.startswith("{") for line in captured.out.splitlines())


async def test_console_format_is_readable_text(observed, capsys):
    _, container = observed
    settings: Settings = container[Settings]
    try:
        app_logging.apply(Settings(**{**_fields(settings), "log_format": "console"}))
        capsys.readouterr()
        logging.getLogger("app.test").warning("plain words")
        out = capsys.readouterr().out
        assert "plain words" in out
        assert not out.lstrip().startswith("{")
    finally:
        app_logging.apply(settings)


async def test_log_level_cors_and_maintenance_ttl_change_live(observed, capsys):
    client, container = observed
    origin = {"Origin": "https://front.example"}
    assert "access-control-allow-origin" not in (await client.get("/health/live", headers=origin)).headers

    store = container[SettingsStore]
    started = store.loaded
    quieter = with_layer(
        started,
        "consul",
        {"LOG_LEVEL": "WARNING", "CORS_ORIGINS": "https://front.example", "MAINTENANCE_CACHE_SECONDS": "7"},
    )
    try:
        change = store.replace(quieter)
        assert {"LOG_LEVEL", "CORS_ORIGINS", "MAINTENANCE_CACHE_SECONDS"} <= change.applied
        capsys.readouterr()
        response = await client.get("/health/live", headers={**origin, "X-Request-ID": "quiet"})
        assert response.headers["access-control-allow-origin"] == "https://front.example"
        preflight = await client.options(
            "/v1/service-context", headers={**origin, "Access-Control-Request-Method": "PATCH"}
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "https://front.example"
        assert access_lines(capsys.readouterr().out, "quiet") == [], "INFO lines are off at WARNING"
        assert container[MaintenanceGate].ttl == 7.0
    finally:
        store.replace(started)
    await client.get("/health/live", headers={"X-Request-ID": "loud"})
    assert len(access_lines(capsys.readouterr().out, "loud")) == 1
    assert "access-control-allow-origin" not in (await client.get("/health/live", headers=origin)).headers


def _fields(settings: Settings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__struct_fields__}


def samples(text: str) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(text):
        found.setdefault(family.name, []).extend(family.samples)
    return found


async def test_metrics_count_requests_per_route_template_and_status(observed, keys, db_url):
    client, _ = observed
    user = keys.headers()
    for _ in range(3):
        assert (await client.get("/v1/users/me", headers=user)).status_code == 200
    await client.get("/v1/users/nope", headers=user)
    await client.request("BREW", "/v1/users/me")

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(response.text)

    requests = {(s.labels["method"], s.labels["route"], s.labels["status"]): s.value for s in found["http_requests"]}
    assert requests[("GET", "/v1/users/me", "200")] == 3
    assert requests[("GET", "/v1/users/{user_id}", "400")] == 1
    assert ("OTHER", "unmatched", "405") in requests, "unknown methods do not become labels"
    buckets = [s for s in found["http_request_duration_seconds"] if s.name.endswith("_count")]
    assert any(s.labels["route"] == "/v1/users/me" and s.value == 3 for s in buckets)
    assert "process_resident_memory_bytes" in found

    pool = {s.labels.get("state"): s.value for s in found.get("db_pool_connections", [])}
    if db_url.startswith("postgresql"):
        assert set(pool) == {"in_use", "idle"}
        assert found["db_pool_max_connections"][0].value == 10
    else:
        assert pool == {}, "SQLite has no pool"


async def test_registered_gauges_are_read_at_scrape_time(observed):
    client, container = observed
    metrics: Metrics = container[Metrics]
    backlog = [4.0]

    async def read_backlog() -> float:
        return backlog[0]

    async def broken() -> float:
        raise ConnectionError("down")

    metrics.add_gauge("queue_backlog", "Entries waiting in a queue", read_backlog)
    metrics.add_gauge("broken_reading", "Always fails", broken)
    first = samples((await client.get("/metrics")).text)
    assert first["queue_backlog"][0].value == 4
    assert math.isnan(first["broken_reading"][0].value)
    backlog[0] = 0
    assert samples((await client.get("/metrics")).text)["queue_backlog"][0].value == 0


async def test_metrics_need_no_token_and_stay_up_in_maintenance(observed, keys):
    client, container = observed
    container[MaintenanceGate].remember(True)
    assert_problem(await client.get("/v1/users/me", headers=keys.headers()), 503)
    assert (await client.get("/metrics")).status_code == 200
    container[MaintenanceGate].remember(False)


async def test_metrics_are_off_by_default_and_follow_the_prefix(engine, make_container):
    async with AsyncTestClient(app=create_app(make_container())) as client:
        assert_problem(await client.get("/metrics"), 404)
    async with AsyncTestClient(
        app=create_app(make_container(METRICS_ENABLED="true", SERVICE_PREFIX="/blog"))
    ) as client:
        assert (await client.get("/blog/metrics")).status_code == 200
        assert_problem(await client.get("/metrics"), 404)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # the pool's metrics need a pool
async def test_the_grafana_dashboard_reads_metrics_the_app_serves(db_url, engine, make_container, keys):
    """deploy/grafana/blog-service.json: every metric its queries read is in a real /metrics, with
    PostgreSQL (the pool), a gRPC call, the token cache and every integration that adds a metric in use."""
    env: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        # region: openfga
        env |= openfga_env(stack.enter_context(FakeOpenFGA()))  # the outbox backlog
        # endregion
        container = make_container(METRICS_ENABLED="true", **env)
        async with AsyncTestClient(app=create_app(container)) as client:
            assert (await client.get("/v1/users/me", headers=keys.headers())).status_code == 200
            container[Metrics].observe_rpc("blog.v1.PostService", "GetPost", "OK", 0.01)
            scraped = (await client.get("/metrics")).text
    served = {sample.name for family in text_string_to_metric_families(scraped) for sample in family.samples}
    read = dashboard_metric_names()
    assert {"http_requests_total", "http_request_duration_seconds_bucket"} <= read
    # region: openfga
    assert "outbox_backlog" in read
    # endregion
    assert read <= served, sorted(read - served)
