"""OpenAPI document and the docs UIs. Swagger UI's assets come from the swagger-ui-bundle-v2
package and are served by the app itself, so /docs works with no internet."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Server
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

from app.maintenance import EXEMPT

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"


class _PrefixAware:
    """Litestar reverses the JSON route without the ASGI root_path; the browser needs it."""

    @staticmethod
    def get_openapi_json_route(request: Request[Any, Any, Any]) -> str:
        return request.scope.get("root_path", "") + request.app.route_reverse("openapi_json")


class LocalSwagger(_PrefixAware, SwaggerRenderPlugin):
    pass


class PrefixRedoc(_PrefixAware, RedocRenderPlugin):
    pass


def openapi_config(prefix: str, version: str) -> OpenAPIConfig:
    assets = f"{prefix}{ASSETS_PATH}"
    return OpenAPIConfig(
        title="Blog service",
        version=version,
        description=(
            "Posts, comments and users. Every `/v1` route except the Keycloak webhook needs "
            "`Authorization: Bearer <JWT>`. Errors are RFC 9457 `application/problem+json`."
        ),
        path=DOCS_PATH,
        openapi_router=Router(DOCS_PATH, route_handlers=[], include_in_schema=False, opt={EXEMPT: True}),
        servers=[Server(url=prefix or "/")],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
            }
        ),
        security=[{"bearer": []}],
        render_plugins=[
            LocalSwagger(
                path="/",
                js_url=f"{assets}/swagger-ui-bundle.js",
                css_url=f"{assets}/swagger-ui.css",
                standalone_preset_js_url=f"{assets}/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' type='image/png' href='{assets}/favicon-32x32.png'>",
            ),
            PrefixRedoc(path="/redoc"),
        ],
    )


def docs_assets_router() -> Router:
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[str(swagger_ui_path)],
        name="docs:assets",
        include_in_schema=False,
        opt={"docs": True, EXEMPT: True},
    )
