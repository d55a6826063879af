"""Traces (app/tracing.py), with the SDK's in-memory exporter and with the real OTLP/HTTP exporter.

- Span structure: one server span per request named after its route template, continuing the
  caller's ``traceparent``; the database statements (PostgreSQL) and the integrations' calls
  under it or their own span; log lines carry the ids.
- The real exporter: spans leave as OTLP/HTTP protobuf to a small receiver on 127.0.0.1, which
  decodes ``ExportTraceServiceRequest`` (opentelemetry-proto) and finds the same names, attributes
  and parentage.
- OIDC key fetches (httpx) and gRPC calls are spans too.
- Off unless an OTEL_* variable names an exporter.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from litestar import get
from litestar.testing import AsyncTestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from app.container import build_container
from app.grpc.gen.blog.v1 import posts_pb2
from app.main import create_app
from app.tracing import Tracing, wanted
from tests.conftest import settings_for
from tests.grpc.conftest import grpc_settings, served
from tests.support.eventually import eventually
from tests.support.fake_openfga import FakeOpenFGA
from tests.support.http_stub import StubRequest, StubResponse, StubServer
from tests.support.oidc_issuer import OidcIssuer
from tests.support.openfga import openfga_env

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"


def hex_ids(span: ReadableSpan) -> tuple[str, str]:
    return format(span.context.trace_id, "032x"), format(span.context.span_id, "016x")


def url_of(span: ReadableSpan) -> Any:
    """A client span's URL, under the stable semantic conventions' name or the older one."""
    attributes = span.attributes or {}
    return attributes.get("url.full", attributes.get("http.url"))


def server_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def traced(
    engine: Any, make_container: Callable[..., Any], exporter: InMemorySpanExporter
) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(make_container({Tracing: Tracing(exporter)}, LOG_FORMAT="json"))

    @get("/test/log-inside", include_in_schema=False, opt={"maintenance_exempt": True})
    async def log_inside() -> dict[str, str]:
        logging.getLogger("some.library").warning("a library speaks")
        return {}

    app.register(log_inside)
    async with AsyncTestClient(app=app) as client:
        exporter.clear()  # start-up's own spans
        yield client


async def test_a_request_is_one_server_span_named_by_its_route(traced, exporter, keys):
    response = await traced.get("/v1/users/not-a-uuid", headers={**keys.headers(), "X-Request-ID": "r-1"})
    assert response.status_code == 400
    (span,) = server_spans(exporter)
    assert span.name == "GET /v1/users/{user_id}"
    assert span.parent is None, "no traceparent: a trace of its own"
    attributes = dict(span.attributes or {})
    assert attributes["http.request.method"] == "GET"
    assert attributes["http.route"] == "/v1/users/{user_id}"
    assert attributes["url.path"] == "/v1/users/not-a-uuid"
    assert attributes["http.response.status_code"] == 400
    assert attributes["http.request.id"] == "r-1"


async def test_the_callers_traceparent_is_continued(traced, exporter, keys):
    response = await traced.get("/v1/users/me", headers={**keys.headers(), "traceparent": TRACEPARENT})
    assert response.status_code == 200
    (span,) = server_spans(exporter)
    assert span.name == "GET /v1/users/me"
    assert hex_ids(span)[0] == CALLER_TRACE
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == CALLER_SPAN
    assert span.parent.is_remote


async def test_database_statements_are_spans_under_the_request(traced, exporter, keys, db_url):
    # The caller's first request writes their user record (created from the token).
    assert (await traced.get("/v1/users/me", headers=keys.headers("newcomer"))).status_code == 200
    (request,) = server_spans(exporter)
    statements = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT]
    if not db_url.startswith("postgresql"):
        assert statements == [], "SQLite has no driver instrumentation"
        return
    assert statements, "the insert and its reads are spans"
    assert {s.context.trace_id for s in statements} == {request.context.trace_id}
    assert {s.parent.span_id for s in statements if s.parent is not None} == {request.context.span_id}
    assert all(s.parent is not None for s in statements)
    assert any(
        (s.attributes or {}).get("db.system") == "postgresql"
        or (s.attributes or {}).get("db.system.name") == "postgresql"
        for s in statements
    )
    assert any("INSERT" in s.name for s in statements), [s.name for s in statements]


async def test_every_log_line_inside_a_request_carries_its_trace_and_span_ids(traced, exporter, capsys):
    capsys.readouterr()
    await traced.get("/test/log-inside", headers={"X-Request-ID": "logged", "traceparent": TRACEPARENT})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    ours = [line for line in lines if line.get("request_id") == "logged"]
    assert {line["event"] for line in ours} == {"a library speaks", "request"}
    (span,) = server_spans(exporter)
    trace_id, span_id = hex_ids(span)
    assert trace_id == CALLER_TRACE
    assert {(line["trace_id"], line["span_id"]) for line in ours} == {(trace_id, span_id)}


async def test_a_request_the_caller_did_not_sample_builds_no_span_below_the_edge(traced, exporter, keys, capsys):
    """parentbased sampling: the caller's ``-00`` flags mean not sampled. Nothing is exported, the
    clients' instrumentation stands aside (the sampler is asked once, for the server span), and the
    log lines still name the caller's trace."""
    quiet = traced.app.state.container[Tracing].provider.sampler
    asked: list[str] = []
    inner = quiet.inner

    class Counting:
        def should_sample(self, *args: Any, **kwargs: Any) -> Any:
            asked.append(args[2])
            return inner.should_sample(*args, **kwargs)

    quiet.inner = Counting()
    capsys.readouterr()
    try:
        headers = {**keys.headers(), "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-00", "X-Request-ID": "unsampled"}
        assert (await traced.get("/v1/users/me", headers=headers)).status_code == 200
    finally:
        quiet.inner = inner
    assert exporter.get_finished_spans() == ()
    assert asked == ["GET"], "only the server span was started"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (access,) = [line for line in lines if line.get("request_id") == "unsampled" and line["event"] == "request"]
    assert access["trace_id"] == CALLER_TRACE


async def test_no_trace_ids_in_the_logs_when_tracing_is_off(client, capsys):
    capsys.readouterr()
    await client.get("/health/live", headers={"traceparent": TRACEPARENT})
    assert "trace_id" not in capsys.readouterr().out


# region: openfga
@pytest.fixture
def fga() -> AsyncIterator[FakeOpenFGA]:
    with FakeOpenFGA() as server:
        yield server


# region: blog
async def test_openfga_calls_are_spans_and_receive_the_traceparent(engine, make_container, exporter, fga, keys, db_url):
    container = make_container({Tracing: Tracing(exporter)}, **openfga_env(fga, OUTBOX_POLL_SECONDS="0.2"))
    async with AsyncTestClient(app=create_app(container)) as client:
        created = await client.post("/v1/posts", json={"content": "shared"}, headers=keys.headers())
        assert created.status_code == 201
        await eventually(lambda: any(r.path.endswith("/write") for r in fga.requests), "the relay wrote the tuple")
        exporter.clear()
        fga.requests.clear()
        post_id = created.json()["id"]
        updated = await client.patch(
            f"/v1/posts/{post_id}", json={"content": "again"}, headers={**keys.headers(), "traceparent": TRACEPARENT}
        )
        assert updated.status_code == 200
    (request,) = server_spans(exporter)
    (check,) = [r for r in fga.requests if r.path.endswith("/check")]
    sent_trace, sent_parent = check.headers["traceparent"].split("-")[1:3]
    assert sent_trace == CALLER_TRACE
    (call,) = [s for s in exporter.get_finished_spans() if format(s.context.span_id, "016x") == sent_parent]
    assert call.kind is SpanKind.CLIENT
    assert call.parent is not None
    assert call.parent.span_id == request.context.span_id


async def test_an_outbox_batch_is_a_span_around_its_delivery(engine, make_container, exporter, fga, keys):
    container = make_container({Tracing: Tracing(exporter)}, **openfga_env(fga, OUTBOX_POLL_SECONDS="0.2"))
    async with AsyncTestClient(app=create_app(container)) as client:
        assert (await client.post("/v1/posts", json={"content": "x"}, headers=keys.headers())).status_code == 201
        await eventually(
            lambda: any(s.name == "outbox.relay" for s in exporter.get_finished_spans()), "a relay batch was traced"
        )
    batch = next(s for s in exporter.get_finished_spans() if s.name == "outbox.relay")
    assert (batch.attributes or {})["outbox.batch_size"] >= 1
    (write,) = [r for r in fga.requests if r.path.endswith("/write")][:1]
    assert write.headers["traceparent"].split("-")[1] == hex_ids(batch)[0]


# endregion
# endregion


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "blog"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
    ],
)
def test_tracing_is_off_unless_an_exporter_is_named(environ, on):
    assert wanted(environ) is on
    assert Tracing.from_environ(environ).enabled is on


class OtlpReceiver(StubServer):
    """An OTLP/HTTP trace receiver: decodes each ExportTraceServiceRequest it is sent."""

    def __init__(self) -> None:
        super().__init__()
        self.exports: list[ExportTraceServiceRequest] = []
        self.received = threading.Event()

    def handle(self, request: StubRequest) -> StubResponse:
        if request.method != "POST" or request.path != "/v1/traces":
            return StubResponse(status=404)
        assert request.headers["content-type"] == "application/x-protobuf"
        export = ExportTraceServiceRequest()
        export.ParseFromString(request.body)
        self.exports.append(export)
        self.received.set()
        return StubResponse(status=200, body=b"", headers={"Content-Type": "application/x-protobuf"})

    def spans(self) -> list[tuple[dict[str, Any], Any]]:
        """Every span received, with its resource's attributes."""
        found = []
        for export in self.exports:
            for resource_spans in export.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    found += [(resource, span) for span in scope_spans.spans]
        return found


async def test_the_otlp_exporter_sends_the_spans_as_protobuf(engine, make_container, keys, monkeypatch, db_url):
    with OtlpReceiver() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)  # the exporter adds /v1/traces
        monkeypatch.setenv("OTEL_SERVICE_NAME", "blog-under-test")
        monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
        async with AsyncTestClient(app=create_app(make_container())) as client:
            response = await client.get("/v1/users/me", headers={**keys.headers(), "traceparent": TRACEPARENT})
            assert response.status_code == 200
        # the lifespan's end flushed the batch processor
        received = receiver.spans()
    assert received, "nothing was exported"
    assert {resource["service.name"] for resource, _ in received} == {"blog-under-test"}
    (server,) = [span for _, span in received if span.name == "GET /v1/users/me"]
    assert server.kind == server.SPAN_KIND_SERVER
    assert server.trace_id.hex() == CALLER_TRACE
    assert server.parent_span_id.hex() == CALLER_SPAN
    attributes = {a.key: a.value for a in server.attributes}
    assert attributes["http.route"].string_value == "/v1/users/me"
    assert attributes["http.response.status_code"].int_value == 200
    if db_url.startswith("postgresql"):
        statements = [
            span for _, span in received if span.trace_id == server.trace_id and span.kind == span.SPAN_KIND_CLIENT
        ]
        assert statements
        assert {span.parent_span_id for span in statements} == {server.span_id}


async def test_oidc_key_fetches_are_spans_a_refetch_inside_the_request(tmp_path, exporter):
    with OidcIssuer(realm="demo") as issuer:
        settings = settings_for(
            f"sqlite:///{tmp_path / 'oidc.sqlite3'}",
            tmp_path,
            OIDC_ISSUER=issuer.issuer,
            OIDC_JWKS_REFETCH_INTERVAL_SECONDS="0",
        )
        container = build_container(settings, overrides={Tracing: Tracing(exporter)})
        async with AsyncTestClient(app=create_app(container)) as client:
            started = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT]
            assert len(started) >= 2, "discovery and the key set at start-up"
            assert all(s.parent is None for s in started), "start-up has no request around it"
            exporter.clear()
            issuer.rotate()  # a token signed with a key the app has not fetched yet
            headers = {"Authorization": f"Bearer {issuer.mint()}", "traceparent": TRACEPARENT}
            assert (await client.get("/v1/users/me", headers=headers)).status_code == 200
        (request,) = server_spans(exporter)
        fetches = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT]
        (refetch,) = [s for s in fetches if url_of(s) == issuer.jwks_uri]
        assert refetch.parent is not None
        assert refetch.parent.span_id == request.context.span_id
        sent = [r for r in issuer.requests if r.path.endswith("/certs")][-1]
        assert sent.headers["traceparent"].split("-")[1] == CALLER_TRACE


# region: grpc
async def test_a_grpc_call_is_a_server_span_continuing_the_callers_trace(engine, make_container, exporter, keys):
    container = make_container({Tracing: Tracing(exporter)}, **grpc_settings())
    app = create_app(container)  # builds the provider, as a worker does before its lifespan
    assert app is not None
    async with served(container, keys) as rpc:
        metadata = (*rpc.auth(), ("traceparent", TRACEPARENT))
        await rpc.posts.ListPosts(posts_pb2.ListPostsRequest(), metadata=metadata)
    (call,) = server_spans(exporter)
    assert call.name == "/blog.v1.PostService/ListPosts"
    assert hex_ids(call)[0] == CALLER_TRACE


# endregion
