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
from domain.users import UserRepository

# region: blog
from tests.api.test_posts_api import create

# endregion
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
    alice, bob, root = keys.headers("alice"), keys.headers("bob"), keys.headers("root", ("admin",))
    forged = keys.mint("alice")[:-6] + "AAAAAA"
    json = {"content-type": "application/json"}
    me, switch = "/v1/users/me", "/v1/service-context"
    answers = {
        400: [
            await client.patch(switch, content=b'{"maintenance": ', headers={**root, **json}),
            await client.patch(switch, content=b"\xff\xfe", headers={**root, **json}),
            await client.patch(switch, json={"maintenance": True, "extra": 1}, headers=root),
            await client.patch(switch, content=_nested(10_000).encode(), headers={**root, **json}),
            await client.get("/v1/users/not-a-uuid", headers=alice),
            await client.get(me, headers=[("Authorization", alice["Authorization"])] * 2),
        ],
        401: [
            await client.get(me),
            await client.get(me, headers={"Authorization": f"Bearer {forged}"}),
            await client.get(me, headers={"Authorization": "Bearer a.b.c"}),
        ],
        403: [await client.patch(switch, json={"maintenance": True}, headers=bob)],
        404: [
            await client.get("/v1/users/00000000-0000-4000-8000-000000000000", headers=alice),
            await client.get("/nowhere"),
            await client.get("/docs/assets/nothing.js"),
        ],
        405: [await client.put(me, headers=alice)],
        413: [await client.patch(switch, content=b"x" * (MIB + 1), headers={**root, **json})],
    }
    # region: blog
    post = (await create(client, keys)).json()
    url = f"/v1/posts/{post['id']}"
    posts = {
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
    for status, more in posts.items():
        answers.setdefault(status, []).extend(more)
    # endregion
    for status, responses in answers.items():
        for response in responses:
            assert response.status_code == status, (status, response.text)
            assert_says_nothing_internal(response, forged)


BROKEN = "00000000-0000-4000-8000-000000000000"


class _Failing:
    """The users port failing the way a bug would, its message full of internals (for one user), or
    the way the database does (for any other); the use case is the real one."""

    async def get(self, user_id: Any, *args: Any, **kwargs: Any) -> Any:
        if str(user_id) == BROKEN:
            raise RuntimeError(INTERNALS)
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
    container = container_for(db_url, ports={UserRepository: _Failing()})
    # On the module's own logger: the app's logging set-up replaces the root logger's handlers (caplog's).
    logger, records = logging.getLogger(problems.__name__), _Records()
    logger.addHandler(records)
    try:
        async with AsyncTestClient(app=create_app(container)) as client:
            failed = await client.get(f"/v1/users/{BROKEN}", headers=keys.headers())
            unavailable = await client.get("/v1/users/11111111-1111-4111-8111-111111111111", headers=keys.headers())
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
        me = await client.get("/blog/v1/users/me", headers=keys.headers())
        responses = [
            me,
            await client.get(f"/blog/v1/users/{me.json()['id']}", headers=keys.headers()),
            await client.put("/blog/v1/users/me", headers=keys.headers()),
            await client.get("/blog/v1/users/me"),
            await client.get("/blog/health/live"),
            await client.get("/blog/docs"),
            await client.get("/blog/docs/openapi.json"),
            await client.get("/blog/docs/assets/swagger-ui-bundle.js"),
            await client.get("/blog/docs/assets/missing.js"),
            await client.get("/outside/the/prefix"),
        ]
    assert [r.status_code for r in responses] == [200, 200, 405, 401, 200, 200, 200, 200, 404, 404]
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
    switch = "/v1/service-context"
    admin = {**keys.headers("root", ("admin",)), "content-type": "application/json"}
    at_limit = b'{"maintenance": false' + b" " * (MIB - 22) + b"}"
    assert len(at_limit) == MIB
    assert (await client.patch(switch, content=at_limit, headers=admin)).status_code == 200  # 1 MiB is allowed
    assert_problem(await client.patch(switch, content=at_limit + b" ", headers=admin), 413)

    # The object and its arrays: MAX_JSON_DEPTH levels are decoded (and refused for the unknown field), one more is not.
    deep = f'{{"maintenance": false, "extra": {_nested(MAX_JSON_DEPTH - 1)}}}'.encode()
    too_deep = [{"field": "body", "message": f"JSON nested deeper than {MAX_JSON_DEPTH} levels"}]
    at_bound = assert_problem(await client.patch(switch, content=deep, headers=admin), 400)
    assert at_bound["errors"] != too_deep, "at the bound it is decoded"
    deeper = deep.replace(b'"extra": ', b'"extra": [')[:-1] + b"]}"
    problem = assert_problem(await client.patch(switch, content=deeper, headers=admin), 400)
    assert problem["errors"] == too_deep
    # region: blog
    headers = {**keys.headers(), "content-type": "application/json"}
    text_at_limit = b'{"content": "' + b"x" * (MIB - 15) + b'"}'
    too_long = assert_problem(await client.post("/v1/posts", content=text_at_limit, headers=headers), 400)
    assert "content" in {error["field"] for error in too_long["errors"]}  # refused for its length, not its size
    # Brackets inside a string are text, not nesting.
    brackets = "[" * 5000 + "]" * 5000
    created = await client.post("/v1/posts", json={"content": brackets}, headers=keys.headers())
    assert (created.status_code, created.json()["content"]) == (201, brackets)
    # endregion


# region: blog
async def test_the_page_size_is_capped(client: Any, keys: TestKeys) -> None:
    assert (await client.get("/v1/posts", params={"limit": 100}, headers=keys.headers())).json()["limit"] == 100
    problem = assert_problem(await client.get("/v1/posts", params={"limit": 101}, headers=keys.headers()), 400)
    assert problem["errors"][0]["field"] == "limit"


# endregion
