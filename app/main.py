"""The ASGI application. ``app.main:app`` is built on first access; ``create_app()`` builds a fresh one."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from lagom import Container
from litestar import Litestar, Router
from litestar.types import ASGIApp, Scope, Send

from app import logging as app_logging
from app.container import build_container
from app.http.admission import Admission, AdmissionControl
from app.http.auth import bearer_auth
from app.http.controllers.metrics import metrics_route
from app.http.cors import CorsPolicy, LiveCORSMiddleware
from app.http.dependencies import dependencies
from app.http.docs import ClosedStructs, docs_assets_router, openapi_config
from app.http.hardening import BoundedRequest
from app.http.observe import RequestObserver
from app.http.problems import EXCEPTION_HANDLERS, PROBLEM_JSON, problem_bytes
from app.http.semantics import Allow
from app.lifecycle import running
from app.maintenance import MaintenanceGate, exempt_by_path, maintenance_check
from app.metrics import Metrics
from app.routes import API, OPEN
from app.settings import Settings
from app.startup_settings import load_startup_settings
from app.tracing import Tracing
from domain.ports import TokenVerifier

MAX_BODY_BYTES = 1024 * 1024


class ServiceApp(Litestar):
    """Litestar with an optional URL prefix (SERVICE_PREFIX).

    Routes are declared without the prefix; a request under it is passed on with the prefix as
    ``root_path`` and the path left whole, as the ASGI spec has it (``path`` includes
    ``root_path``): Litestar's router cuts the root path once, at the start, so a path that
    repeats the prefix further on is routed right. Generated URLs and the OpenAPI server URL
    carry the prefix. Anything outside the prefix is a 404 problem.
    """

    service_prefix: str = ""
    # with tracing on, the server span (app/tracing.py); admission control (app/http/admission.py), then request id, security headers, access log,
    # metrics (app/http/observe.py)
    edge: ASGIApp | None = None

    @staticmethod
    def _patch_opentelemetry_middleware(config: Any) -> Any:
        # Litestar imports its OpenTelemetry plugin (and so opentelemetry) at every app's creation
        # whenever the package is installed, to move its middleware first; the server span is made
        # at our edge instead (app/tracing.py), and a worker with tracing off must not load it.
        return config

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.edge is not None:
            await self.edge(scope, receive, send)
        else:
            await self.dispatch(scope, receive, send)

    async def dispatch(self, scope: Any, receive: Any, send: Any) -> None:
        prefix = self.service_prefix
        if prefix and scope["type"] in ("http", "websocket"):
            path: str = scope["path"]
            if path == prefix or path.startswith(prefix + "/"):
                scope["root_path"] = prefix  # in place: the edge reads what the router adds to it
            elif scope["type"] == "http":
                await _not_found(scope, send)
                return
        await super().__call__(scope, receive, send)


async def _not_found(scope: Scope, send: Send) -> None:
    body = problem_bytes(404, f"no such resource; every route is under {ServiceApp.service_prefix}", scope["path"])
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


_heap_frozen = False


def _freeze_startup_heap() -> None:
    """Once per process, when start-up is done: collect, then move every object alive into the
    garbage collector's permanent generation (``gc.freeze``).

    The worker holds a few hundred thousand long-lived objects (Litestar, Piccolo, msgspec types,
    the routes and signature models). A full collection scanned them all: 70-80 ms with the GIL
    held, every request in flight waiting behind it, the p99 of a 10 ms request. Frozen, they are
    never scanned again; what requests allocate is collected as before. Measured in
    benchmarks/README.md ("Second round", item 3). Once per process, so that a test session
    building many apps does not pin each one's garbage."""
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.collect()
        gc.freeze()


def _version() -> str:
    try:
        return version("blog-service")
    except PackageNotFoundError:
        return "0.1.0"


def create_app(container: Container | None = None) -> ServiceApp:
    if container is None:
        container = build_container(load_startup_settings())
    settings = container[Settings]
    app_logging.apply(settings)
    metrics = container[Metrics] if settings.metrics_enabled else None

    @asynccontextmanager
    async def lifespan(application: Litestar) -> AsyncIterator[None]:
        exempt_by_path(application.routes)
        async with running(container):
            _freeze_startup_heap()
            yield

    api = Router(path="/", route_handlers=API, middleware=[bearer_auth(container[TokenVerifier])])
    app = ServiceApp(
        route_handlers=[api, *OPEN, docs_assets_router(), *([metrics_route(metrics)] if metrics else [])],
        dependencies=dependencies(container, [*API, *OPEN]),
        middleware=[maintenance_check(container[MaintenanceGate])],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi_config(settings.prefix, _version()),
        plugins=[ClosedStructs()],
        request_max_body_size=MAX_BODY_BYTES,
        request_class=BoundedRequest,
        lifespan=[lifespan],
        logging_config=None,  # app/logging.py routes Litestar's logger like every other
        debug=False,
    )
    app.asgi_handler = LiveCORSMiddleware(app.asgi_handler, container[CorsPolicy])
    admission = container[Admission]
    if metrics is not None:
        metrics.add_admission(admission)
    app.edge = AdmissionControl(RequestObserver(app.dispatch, metrics, Allow(app.routes)), admission, settings.prefix)
    tracing = container[Tracing]
    if tracing.enabled:  # the server span around the whole edge (app/tracing.py); off: not even imported
        tracing.start(settings)
        app.edge = tracing.edge(app.edge)
    app.service_prefix = settings.prefix
    app.state.container = container
    return app


def __getattr__(name: str) -> Any:
    # Built on first access so that importing create_app (tests, CLI) reads no settings.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
