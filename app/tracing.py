"""Traces (OpenTelemetry): off unless configured, and then one trace per request.

On when the standard variables name an exporter: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) for OTLP over HTTP (protobuf), or ``OTEL_TRACES_EXPORTER``
= ``otlp`` / ``console``; ``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none`` keeps it off.
The SDK reads the rest itself: ``OTEL_SERVICE_NAME`` (default here ``blog-service``),
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER`` / ``_ARG``, ``OTEL_PROPAGATORS``, the
exporter's headers, timeout and compression, the batch processor's ``OTEL_BSP_*``. These are read
from the process environment, as every OpenTelemetry SDK does (not from .env or Consul).

Off, this module imports nothing of OpenTelemetry and the request path pays nothing: the edge is
not wrapped, nothing is instrumented, the log processor is not installed
(tests/integration/test_startup_weight.py checks what a default worker loads).

On, a request's trace is:
- the server span, made here at the edge (``TracedEdge``, outside admission control, so a shed
  request is traced too): ``GET /v1/posts/{post_id}``, kind SERVER, continuing the caller's W3C
  ``traceparent`` (and ``tracestate``, baggage), with ``http.request.method``, ``url.path``,
  ``http.route``, ``http.response.status_code``, ``http.request.id`` (the X-Request-ID);
- a CLIENT span per database statement (PostgreSQL: opentelemetry-instrumentation-asyncpg; SQLite
  has none), per OIDC discovery or key-set fetch (httpx), each under the span that was current when
  it ran;
# region: openfga
- a CLIENT span per OpenFGA call (aiohttp, which also sends ``traceparent`` to OpenFGA);
- a batch of the outbox relay is an ``outbox.relay`` span around its OpenFGA write and the
  statements that record the outcome;
# endregion
- gRPC calls get their server span from opentelemetry-instrumentation-grpc (app/grpc/server.py).
Database statements with no span around them (the background loops' polling) are not recorded:
``QuietBackground`` drops them, or a trace would begin every few seconds per worker. A request the
sampler leaves out (``OTEL_TRACES_SAMPLER=parentbased_traceidratio``) runs with the clients'
instrumentation suppressed: no span is built below its edge, so it costs little more than with
tracing off (and the services it calls receive no ``traceparent`` for it).

Every log line written while a span is current carries ``trace_id`` and ``span_id``
(app/logging.py, ``follow_traces``), the access line included.

A trace is exported in batches by a background thread (BatchSpanProcessor); the lifespan's end
flushes it (``stop``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from app import logging as app_logging
from app.http.observe import RouteTemplates

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Send
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from app.settings import Settings

DEFAULT_SERVICE_NAME = "blog-service"
TRACER_NAME = "blog-service"
_ON = frozenset({"otlp", "console"})
# Request headers a propagator reads (W3C trace context and baggage, and B3 if OTEL_PROPAGATORS asks).
_PROPAGATED = frozenset({b"traceparent", b"tracestate", b"baggage", b"b3", b"x-b3-traceid", b"x-b3-spanid"})


def wanted(environ: Mapping[str, str]) -> bool:
    """Whether the OTEL_* variables turn tracing on (see the module's docstring)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter in _ON
    return bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


class Tracing:
    """The process's tracing: ``enabled`` or not, its provider, and the instrumentation it turned on.

    ``Tracing.from_environ()`` is what the container binds; tests pass an exporter of their own
    (the SDK's InMemorySpanExporter), which turns tracing on whatever the environment says."""

    def __init__(
        self, exporter: SpanExporter | None = None, *, enabled: bool = False, environ: Mapping[str, str] | None = None
    ) -> None:
        self.enabled = enabled or exporter is not None
        self._exporter = exporter
        self._environ = os.environ if environ is None else environ
        self.provider: TracerProvider | None = None
        self._instrumented: list[Any] = []

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Tracing:
        environ = os.environ if environ is None else environ
        return cls(enabled=wanted(environ), environ=environ)

    def _build(self) -> TracerProvider:
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        defaults = {} if self._environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: DEFAULT_SERVICE_NAME}
        resource = Resource.create(defaults)  # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over it
        provider = TracerProvider(resource=resource)  # the sampler from OTEL_TRACES_SAMPLER
        # Before any tracer is handed out: tracers keep the sampler they were made with.
        provider.sampler = QuietBackground(provider.sampler)
        if self._exporter is not None:  # the tests' in-memory exporter: spans visible as they end
            provider.add_span_processor(SimpleSpanProcessor(self._exporter))
        else:
            provider.add_span_processor(BatchSpanProcessor(_exporter_from(self._environ)))
        return provider

    def start(self, settings: Settings) -> None:
        """Build the provider, route trace ids into the logs, and instrument the clients this
        process uses (only those: instrumenting httpx or aiohttp would import them)."""
        if not self.enabled or self.provider is not None:
            return
        self.provider = provider = self._build()
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

        instrumentors: list[Any] = [AsyncPGInstrumentor()]  # type: ignore[no-untyped-call]
        if settings.oidc_issuer is not None:  # the key source's discovery and JWKS fetches
            from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

            instrumentors.append(HTTPXClientInstrumentor())
        # region: openfga
        if settings.openfga_enabled:  # the SDK's aiohttp session: a span per call, traceparent sent
            from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor

            instrumentors.append(AioHttpClientInstrumentor())
        # endregion
        for instrumentor in instrumentors:
            if not instrumentor.is_instrumented_by_opentelemetry:  # another app in this process did
                instrumentor.instrument(tracer_provider=provider)
                self._instrumented.append(instrumentor)
        app_logging.follow_traces(current_ids)

    def stop(self) -> None:
        """Undo ``start``: uninstrument, stop adding ids to the logs, export what is left."""
        for instrumentor in reversed(self._instrumented):
            instrumentor.uninstrument()
        self._instrumented.clear()
        if self.provider is not None:
            app_logging.follow_traces(None)
            self.provider.shutdown()  # flushes the batch processor (bounded by OTEL_BSP_EXPORT_TIMEOUT)
            self.provider = None

    def edge(self, app: ASGIApp) -> ASGIApp:
        """``app`` behind the server span (``start`` must have run)."""
        assert self.provider is not None
        return TracedEdge(app, self.provider)

    def grpc_interceptors(self) -> list[Any]:
        """The gRPC server's span, outermost, when tracing is on."""
        if self.provider is None:
            return []
        from opentelemetry.instrumentation.grpc import aio_server_interceptor

        return [aio_server_interceptor(tracer_provider=self.provider)]  # type: ignore[no-untyped-call]

    # region: openfga
    def batch_span(self) -> Callable[[int], AbstractContextManager[Any]]:
        """For the outbox relay: a span around the delivery of a claimed batch."""
        assert self.provider is not None
        tracer = self.provider.get_tracer(TRACER_NAME)

        @contextmanager
        def span(size: int) -> Iterator[Any]:
            with tracer.start_as_current_span("outbox.relay", attributes={"outbox.batch_size": size}) as current:
                yield current

        return span

    # endregion


def _exporter_from(environ: Mapping[str, str]) -> SpanExporter:
    if environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout, compression from OTEL_EXPORTER_OTLP_*


def current_ids() -> tuple[str, str] | None:
    """The current span's trace and span ids in W3C hex, or None outside any span."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def _quiet_background() -> type:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
    from opentelemetry.trace import Link, SpanKind, get_current_span
    from opentelemetry.util.types import Attributes

    class _QuietBackground(Sampler):
        """The configured sampler, except that a database statement outside any span is dropped."""

        def __init__(self, inner: Sampler) -> None:
            self.inner = inner

        def should_sample(
            self,
            parent_context: Context | None,
            trace_id: int,
            name: str,
            kind: SpanKind | None = None,
            attributes: Attributes = None,
            links: Sequence[Link] | None = None,
            trace_state: Any = None,
        ) -> SamplingResult:
            if (
                kind is SpanKind.CLIENT
                and attributes
                and ("db.system" in attributes or "db.system.name" in attributes)
                and not get_current_span(parent_context).get_span_context().is_valid
            ):
                return SamplingResult(Decision.DROP)
            return self.inner.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

        def get_description(self) -> str:
            return f"QuietBackground{{{self.inner.get_description()}}}"

    return _QuietBackground


def QuietBackground(inner: Any) -> Any:  # noqa: N802  # a class, built when tracing is on
    return _quiet_background()(inner)


class TracedEdge:
    """The server span of each HTTP request, around the whole edge."""

    def __init__(self, app: ASGIApp, provider: TracerProvider) -> None:
        from opentelemetry import propagate
        from opentelemetry.instrumentation.utils import suppress_instrumentation
        from opentelemetry.propagators.textmap import DefaultGetter
        from opentelemetry.trace import SpanKind, StatusCode

        self.app = app
        self._tracer = provider.get_tracer(TRACER_NAME)
        self._extract = propagate.extract
        self._getter = DefaultGetter()  # a dict of the propagation headers, names in lower case
        self._server = SpanKind.SERVER
        self._error = StatusCode.ERROR
        self._suppressed = suppress_instrumentation
        self._route = RouteTemplates()

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier: MutableMapping[str, str] = {}
        for name, value in scope["headers"]:
            if name in _PROPAGATED:
                carrier[name.decode("latin-1")] = value.decode("latin-1")
        method = scope["method"]
        attributes = {
            "http.request.method": method,
            "url.path": scope["path"],
            "url.scheme": scope.get("scheme", "http"),
        }
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    if name == b"x-request-id":
                        span.set_attribute("http.request.id", value.decode("latin-1"))
            await send(message)

        context = self._extract(carrier, getter=self._getter) if carrier else None
        with self._tracer.start_as_current_span(
            method, context=context, kind=self._server, attributes=attributes
        ) as span:
            if not span.is_recording():
                # Not sampled: the clients' instrumentation would still build a span per statement
                # and call, only to drop it (most of tracing's cost); it stands aside instead.
                with self._suppressed():
                    await self.app(scope, receive, send)
                return
            try:
                await self.app(scope, receive, send_status)
            finally:
                route = self._route(scope)
                if route is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(self._error)
