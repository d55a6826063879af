"""Security basics: error bodies that say nothing internal, security headers, bounds on input."""

from __future__ import annotations

import logging
import re
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from app.http import problems
from app.http.hardening import MAX_JSON_DEPTH
from app.main import create_app
from domain.errors import DependencyUnavailable
from domain.posts import PostReader, PostRepository
from tests.api.test_posts_api import create
from tests.support.problems import assert_problem
from tests.support.tokens import TestKeys

MIB = 1024 * 1024
INTERNALS = 'SELECT secret FROM post -- Traceback (most recent call last): File "/app/adapters/db/x.py", line 1'
LEAKS = ("Traceback", 'File "', "SELECT", "INSERT", "UPDATE ", "DELETE FROM", "sqlite", "asyncpg", "piccolo", ".py")


def assert_says_nothing_internal(response: Any, *secrets: str) -> dict[str, Any]:
    problem = assert_problem(response, response.status_code)
    assert set(problem) <= {"type", "title", "status", "detail", "instance", "errors"}
    text = response.text + "".join(f"{name}: {value}" for name, value in response.headers.items())
    for leak in (*LEAKS, *secrets):
        assert leak not in text, leak
    return problem


def _nested(depth: int) -> str:
    value = '"x"'
    for _ in range(depth):
        value = f"[{value}]"
    return value


async def test_no_client_error_body_carries_internals(client: Any, keys: TestKeys) -> None:
    alice, bob = keys.headers("alice"), keys.headers("bob")
    post = (await create(client, keys)).json()
    url = f"/v1/posts/{post['id']}"
    forged = keys.mint("alice")[:-6] + "AAAAAA"
    json = {"content-type": "application/json"}
    answers = {
        400: [
            await client.post("/v1/posts", content=b'{"content": ', headers={**alice, **json}),
            await client.post("/v1/posts", content=b"\xff\xfe", headers={**alice, **json}),
            await client.post("/v1/posts", json={"content": "x", "extra": 1}, headers=alice),
            await client.post("/v1/posts", json={"content": "a\x00b"}, headers=alice),
            await client.post("/v1/posts", content=_nested(10_000).encode(), headers={**alice, **json}),
            await client.get("/v1/posts/not-a-uuid", headers=alice),
            await client.get("/v1/posts", params={"offset": "9" * 40}, headers=alice),
            await client.patch(url, json={"content": "x"}, headers={**alice, "If-Match": "garbage"}),
        ],
        401: [
            await client.get(url),
            await client.get(url, headers={"Authorization": f"Bearer {forged}"}),
            await client.get(url, headers={"Authorization": "Bearer a.b.c"}),
        ],
        403: [await client.patch(url, json={"content": "x"}, headers=bob), await client.delete(url, headers=bob)],
        404: [
            await client.get("/v1/posts/00000000-0000-4000-8000-000000000000", headers=alice),
            await client.get("/nowhere"),
            await client.get("/docs/assets/nothing.js"),
        ],
        405: [await client.put("/v1/posts", headers=alice), await client.post(url, headers=alice)],
        412: [await client.patch(url, json={"content": "x"}, headers={**alice, "If-Match": '"7"'})],
        413: [await client.post("/v1/posts", content=b"x" * (MIB + 1), headers={**alice, **json})],
    }
    for status, responses in answers.items():
        for response in responses:
            assert response.status_code == status, (status, response.text)
            assert_says_nothing_internal(response, forged)


class _Exploding:
    """A port failing the way a bug would: its message full of internals (the use case is the real one)."""

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(INTERNALS)


class _DatabaseDown:
    async def list(self, *args: Any) -> Any:
        raise DependencyUnavailable("database") from asyncpg.QueryCanceledError(INTERNALS)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_500_and_a_503_say_only_what_happened_and_the_500_is_logged(
    engine: Any, db_url: str, container_for: Any, keys: TestKeys
) -> None:
    container = container_for(db_url, ports={PostRepository: _Exploding(), PostReader: _DatabaseDown()})
    # On the module's own logger: the app's logging set-up replaces the root logger's handlers (caplog's).
    logger, records = logging.getLogger(problems.__name__), _Records()
    logger.addHandler(records)
    try:
        async with AsyncTestClient(app=create_app(container)) as client:
            failed = await client.get("/v1/posts/00000000-0000-4000-8000-000000000000", headers=keys.headers())
            unavailable = await client.get("/v1/posts", headers=keys.headers())
    finally:
        logger.removeHandler(records)
    assert failed.status_code == 500
    problem = assert_says_nothing_internal(failed, "secret")
    assert problem["detail"] == "an unexpected error occurred; it has been logged"
    # The operator sees what happened; the caller does not.
    assert [str(r.exc_info[1]) for r in records.records if r.exc_info] == [INTERNALS]
    assert unavailable.status_code == 503
    assert_says_nothing_internal(unavailable, "secret")
    assert unavailable.headers["retry-after"].isdigit()


async def test_every_response_says_nosniff(engine: Any, db_url: str, container_for: Any, keys: TestKeys) -> None:
    async with AsyncTestClient(app=create_app(container_for(db_url, SERVICE_PREFIX="/blog"))) as client:
        post = await client.post("/blog/v1/posts", json={"content": "x"}, headers=keys.headers())
        responses = [
            post,
            await client.get(f"/blog/v1/posts/{post.json()['id']}", headers=keys.headers()),
            await client.delete(f"/blog/v1/posts/{post.json()['id']}", headers=keys.headers()),
            await client.get("/blog/v1/posts"),
            await client.get("/blog/health/live"),
            await client.get("/blog/docs"),
            await client.get("/blog/docs/openapi.json"),
            await client.get("/blog/docs/assets/swagger-ui-bundle.js"),
            await client.get("/blog/docs/assets/missing.js"),
            await client.get("/outside/the/prefix"),
        ]
    assert [r.status_code for r in responses] == [201, 200, 204, 401, 200, 200, 200, 200, 404, 404]
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff", response.request.url


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def _attributes(page: str, tag: str, attribute: str) -> list[str]:
    return re.findall(rf"<{tag}\b[^>]*\b{attribute}=[\"']([^\"']*)[\"']", page)


@pytest.mark.parametrize("prefix", ["", "/blog"])
async def test_docs_pages_have_a_strict_csp_that_still_allows_what_they_load(
    engine: Any, db_url: str, container_for: Any, prefix: str
) -> None:
    async with AsyncTestClient(app=create_app(container_for(db_url, SERVICE_PREFIX=prefix))) as client:
        swagger = await client.get(f"{prefix}/docs")
        policy = _directives(swagger.headers["content-security-policy"])
        assert policy["default-src"] == ["'none'"]
        assert policy["script-src"] == ["'self'"]  # no inline script, nothing from elsewhere
        assert policy["frame-ancestors"] == ["'none'"]
        page = swagger.text
        assert "<script>" not in page
        assert "<script " not in page.replace("<script src=", "")  # every script has a src
        scripts = _attributes(page, "script", "src")
        assets = scripts + _attributes(page, "link", "href")
        assert f"{prefix}/docs/assets/swagger-init.js" in scripts
        for asset in assets:  # same origin, served by the app: allowed by 'self'
            assert asset.startswith(f"{prefix}/docs/assets/"), asset
            assert (await client.get(asset)).status_code == 200, asset
        [document] = _attributes(page, "div", "data-openapi-url")
        assert document == f"{prefix}/docs/openapi.json"
        assert (await client.get(document)).json()["openapi"].startswith("3.1")
        initializer = (await client.get(f"{prefix}/docs/assets/swagger-init.js")).text
        assert "data-openapi-url" in initializer
        assert "SwaggerUIBundle(" in initializer

        redoc = await client.get(f"{prefix}/docs/redoc")
        policy = _directives(redoc.headers["content-security-policy"])
        [cdn] = policy["script-src"]
        assert cdn == "https://cdn.redoc.ly"  # exactly Redoc's CDN, nothing else
        assert policy["connect-src"] == ["'self'"]
        [script] = _attributes(redoc.text, "script", "src")
        assert script.startswith(cdn + "/")
        assert "fonts.googleapis.com" not in redoc.text
        assert _attributes(redoc.text, "redoc", "spec-url") == [f"{prefix}/docs/openapi.json"]

        api = await client.get(f"{prefix}/health/live")
        assert "content-security-policy" not in api.headers


async def test_body_size_and_nesting_are_bounded(client: Any, keys: TestKeys) -> None:
    headers = {**keys.headers(), "content-type": "application/json"}
    at_limit = b'{"content": "' + b"x" * (MIB - 15) + b'"}'
    assert len(at_limit) == MIB
    too_long = assert_problem(await client.post("/v1/posts", content=at_limit, headers=headers), 400)
    assert "content" in {error["field"] for error in too_long["errors"]}  # refused for its length, not its size
    assert_problem(await client.post("/v1/posts", content=at_limit + b" ", headers=headers), 413)

    deep = f'{{"content": "x", "extra": {_nested(MAX_JSON_DEPTH)}}}'.encode()
    assert_problem(await client.post("/v1/posts", content=deep, headers=headers), 400)
    deeper = (
        f'{{"content": "x", "extra": {_nested(MAX_JSON_DEPTH)}}}'.encode().replace(b'"extra": ', b'"extra": [') + b"]"
    )
    problem = assert_problem(await client.post("/v1/posts", content=deeper, headers=headers), 400)
    assert problem["errors"] == [{"field": "body", "message": f"JSON nested deeper than {MAX_JSON_DEPTH} levels"}]
    # Brackets inside a string are text, not nesting.
    brackets = "[" * 5000 + "]" * 5000
    created = await client.post("/v1/posts", json={"content": brackets}, headers=keys.headers())
    assert (created.status_code, created.json()["content"]) == (201, brackets)


async def test_the_page_size_is_capped(client: Any, keys: TestKeys) -> None:
    assert (await client.get("/v1/posts", params={"limit": 100}, headers=keys.headers())).json()["limit"] == 100
    problem = assert_problem(await client.get("/v1/posts", params={"limit": 101}, headers=keys.headers()), 400)
    assert problem["errors"][0]["field"] == "limit"
