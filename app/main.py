"""The ASGI application. ``app.main:app`` is built on first access; ``create_app()`` builds a fresh one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from lagom import Container
from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import ResponseHeader
from litestar.types import Scope, Send

from app.container import build_container, litestar_dependencies, running
from app.http.auth import bearer_guard
from app.http.controllers.comments import CommentController
from app.http.controllers.health import HealthController
from app.http.controllers.posts import PostController
from app.http.controllers.users import UserController
from app.http.docs import docs_assets_router, openapi_config
from app.http.hardening import BoundedRequest, security_headers
from app.http.problems import EXCEPTION_HANDLERS, PROBLEM_JSON, problem_bytes
from app.settings import Settings, load_settings
from domain.ports import TokenVerifier

MAX_BODY_BYTES = 1024 * 1024


class ServiceApp(Litestar):
    """Litestar with an optional URL prefix (SERVICE_PREFIX).

    Routes are declared without the prefix; a request under it is passed on with the prefix
    moved to ``root_path`` (as ASGI servers do behind a proxy), so generated URLs and the
    OpenAPI server URL carry it. Anything outside the prefix is a 404 problem.
    """

    service_prefix: str = ""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        prefix = self.service_prefix
        if prefix and scope["type"] in ("http", "websocket"):
            path: str = scope["path"]
            if path == prefix or path.startswith(prefix + "/"):
                scope = {**scope, "path": path[len(prefix) :] or "/", "root_path": scope.get("root_path", "") + prefix}
            elif scope["type"] == "http":
                await _not_found(scope, send)
                return
        await super().__call__(scope, receive, send)


async def _not_found(scope: Scope, send: Send) -> None:
    body = problem_bytes(404, f"no such resource; every route is under {ServiceApp.service_prefix}", scope["path"])
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"),
    ]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _version() -> str:
    try:
        return version("blog-service")
    except PackageNotFoundError:
        return "0.1.0"


def create_app(container: Container | None = None) -> ServiceApp:
    if container is None:
        container = build_container(load_settings().settings)
    settings = container[Settings]

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with running(container):
            yield

    api = Router(
        path="/",
        route_handlers=[UserController, PostController, CommentController],
        guards=[bearer_guard(container[TokenVerifier])],  # type: ignore[type-abstract]
    )
    app = ServiceApp(
        route_handlers=[api, HealthController, docs_assets_router()],
        dependencies=litestar_dependencies(container),
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi_config(settings.prefix, _version()),
        cors_config=CORSConfig(allow_origins=settings.cors_origin_list) if settings.cors_origin_list else None,
        request_max_body_size=MAX_BODY_BYTES,
        request_class=BoundedRequest,
        response_headers=[ResponseHeader(name="X-Content-Type-Options", value="nosniff")],
        before_send=[security_headers],
        lifespan=[lifespan],
        debug=False,
    )
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
