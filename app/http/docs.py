"""OpenAPI document and the docs UIs. Swagger UI's assets come from the swagger-ui-bundle-v2
package and are served by the app itself, so /docs works with no internet.

Both pages carry no inline script, so their Content-Security-Policy can be strict: Swagger UI loads
only from this origin (its initializer is docs_static/swagger-init.js), Redoc only its script from
its CDN. Styles stay 'unsafe-inline': both UIs set style attributes from JavaScript.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Router
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.constants import OPENAPI_JSON_HANDLER_NAME
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, Contact, Schema, SecurityScheme, Server, Tag
from litestar.static_files import create_static_files_router
from litestar.typing import FieldDefinition
from swagger_ui_bundle import swagger_ui_path

from app.maintenance import EXEMPT

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
REDOC_PATH = "/redoc"
REDOC_JS_URL = "https://cdn.redoc.ly/redoc/latest/bundles/redoc.standalone.js"
_STATIC = Path(__file__).parent / "docs_static"

_COMMON_CSP = "default-src 'none'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
SWAGGER_CSP = f"{_COMMON_CSP}; script-src 'self'; style-src 'self' 'unsafe-inline'"
# Exactly Redoc's CDN origin for its script; its search index runs in a worker made from a blob.
REDOC_CSP = f"{_COMMON_CSP}; script-src {urlsplit(REDOC_JS_URL).scheme}://{urlsplit(REDOC_JS_URL).netloc}; style-src 'unsafe-inline'; worker-src blob:"


class _PrefixAware:
    """Litestar reverses the JSON route without the ASGI root_path; the browser needs it."""

    @staticmethod
    def get_openapi_json_route(request: Request[Any, Any, Any]) -> str:
        return request.scope.get("root_path", "") + request.app.route_reverse(OPENAPI_JSON_HANDLER_NAME)


def _page(title: str, head: str, body: str) -> bytes:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{head}</head><body>{body}</body></html>'
    ).encode()


class LocalSwagger(_PrefixAware, SwaggerRenderPlugin):
    """Swagger UI from this app's own assets, started by a static script rather than an inline one."""

    def __init__(self, *, init_js_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.init_js_url = init_js_url

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        document = html.escape(self.get_openapi_json_route(request), quote=True)
        head = (
            f'{self.favicon}<link href="{self.css_url}" rel="stylesheet">'
            f'<script src="{self.js_url}" defer></script><script src="{self.standalone_preset_js_url}" defer></script>'
            f'<script src="{self.init_js_url}" defer></script>'
        )
        return _page(
            openapi_schema["info"]["title"], head, f'<div id="swagger-ui" data-openapi-url="{document}"></div>'
        )


class PrefixRedoc(_PrefixAware, RedocRenderPlugin):
    """Redoc's own element loads the document: no inline script, no Google Fonts."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        document = html.escape(self.get_openapi_json_route(request), quote=True)
        body = f'<redoc spec-url="{document}"></redoc><script src="{self.js_url}" crossorigin></script>'
        return _page(openapi_schema["info"]["title"], "", body)


# Content-Security-Policy of each docs page, by path without the service prefix (see app/http/hardening.py).
DOCS_POLICIES = {DOCS_PATH: SWAGGER_CSP, DOCS_PATH + "/": SWAGGER_CSP, DOCS_PATH + REDOC_PATH: REDOC_CSP}


class ClosedStructs(StructSchemaPlugin):
    """A request body that refuses unknown fields (``forbid_unknown_fields``) says so in its schema,
    ``additionalProperties: false``, which Litestar's own struct plugin leaves out. (That plugin is
    not exported; tests/api/test_service_api.py notices if an upgrade moves or changes it.)"""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if isinstance(info, msgspec.inspect.StructType) and info.forbid_unknown_fields:
            schema.additional_properties = False
        return schema


TAGS = [
    Tag(
        name="posts",
        description="Posts: anyone authenticated reads them; their owner, their editors (or an admin) change them",
    ),
    Tag(
        name="sharing",
        description="A post's editors, users and Keycloak groups, changed by its owner (or an admin)",
    ),
    Tag(name="comments", description="Comments on posts, owned like posts; the post's owner may delete them"),
    # `just new-resource` adds a new resource's tag above this line.
    Tag(name="users", description="Users, created from tokens and kept in step with Keycloak"),
    Tag(name="service", description="Maintenance mode"),
    # region: webhook
    Tag(
        name="authentication",
        description="The Keycloak webhook that keeps users, groups and memberships in sync (signed, no token)",
    ),
    # endregion
    Tag(name="health", description="Liveness and readiness probes (no token)"),
]


def openapi_config(prefix: str, version: str) -> OpenAPIConfig:
    assets = f"{prefix}{ASSETS_PATH}"
    return OpenAPIConfig(
        title="Blog service",
        version=version,
        description=(
            "Posts, comments and users. Every `/v1` route except the Keycloak webhook needs "
            "`Authorization: Bearer <JWT>`. Errors are RFC 9457 `application/problem+json`. "
            "Bodies are JSON (`Content-Type: application/json`, else 415). `HEAD` works wherever "
            "`GET` does; `OPTIONS` and every 405 list the path's methods in `Allow`. Reads of a post, "
            "comment or user carry an `ETag`: send it in `If-None-Match` to revalidate (304), or in "
            "`If-Match` on PATCH and DELETE to change only what you saw (412 otherwise)."
        ),
        contact=Contact(name="Blog service maintainers"),  # forks: the team that runs it
        tags=TAGS,
        use_handler_docstrings=True,
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
                init_js_url=f"{assets}/swagger-init.js",
                favicon=f"<link rel='icon' type='image/png' href='{assets}/favicon-32x32.png'>",
            ),
            PrefixRedoc(path=REDOC_PATH, js_url=REDOC_JS_URL, google_fonts=False),
        ],
    )


def docs_assets_router() -> Router:
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[str(_STATIC), str(swagger_ui_path)],  # ours first: the bundle has its own initializer
        name="docs:assets",
        include_in_schema=False,
        opt={"docs": True, EXEMPT: True},
    )
