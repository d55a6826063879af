"""SERVICE_PREFIX=/blog: every route (API, health, docs, the OpenAPI document, the docs' assets)
lives under the prefix; anything outside it is a 404 problem; generated URLs carry it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from tests.support.problems import assert_problem


@pytest.fixture
async def blog(engine: Any, make_container: Any) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(app=create_app(make_container(SERVICE_PREFIX="/blog/"))) as client:
        yield client


async def test_health_and_docs_move_under_the_prefix(blog):
    assert (await blog.get("/blog/health/live")).json() == {"status": "ok"}
    assert (await blog.get("/blog/health/ready")).status_code == 200

    page = await blog.get("/blog/docs")
    assert page.status_code == 200
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js", "favicon-32x32.png"):
        assert f"/blog/docs/assets/{asset}" in page.text
        assert (await blog.get(f"/blog/docs/assets/{asset}")).status_code == 200
    assert 'data-openapi-url="/blog/docs/openapi.json"' in page.text, "the UI loads the document under the prefix"
    assert (await blog.get("/blog/docs/redoc")).status_code == 200

    document = (await blog.get("/blog/docs/openapi.json")).json()
    assert document["servers"] == [{"url": "/blog"}]
    assert "/v1/users/me" in document["paths"], "paths are relative to the server URL"


async def test_the_api_works_under_the_prefix_and_locations_carry_it(blog, keys):
    user = keys.headers()
    # region: blog
    created = await blog.post("/blog/v1/posts", json={"content": "hello"}, headers=user)
    assert created.status_code == 201, created.text
    post = created.json()
    assert created.headers["location"] == f"/blog/v1/posts/{post['id']}"
    assert (await blog.get(created.headers["location"], headers=user)).json() == post

    comment = await blog.post("/blog/v1/comments", json={"post_id": post["id"], "content": "hi"}, headers=user)
    assert comment.status_code == 201, comment.text
    assert comment.headers["location"] == f"/blog/v1/comments/{comment.json()['id']}"
    assert (await blog.get(comment.headers["location"], headers=user)).status_code == 200

    assert (await blog.get("/blog/v1/posts", headers=user)).json()["total"] == 1
    assert (await blog.delete(f"/blog/v1/posts/{post['id']}", headers=user)).status_code == 204
    # endregion
    me = await blog.get("/blog/v1/users/me", headers=user)
    assert me.status_code == 200
    assert (await blog.get(f"/blog/v1/users/{me.json()['id']}", headers=user)).json() == me.json()
    assert (await blog.get("/blog/v1/service-context", headers=user)).status_code == 200


async def test_a_path_that_repeats_the_prefix_is_routed_once(blog, keys):
    # The prefix is cut once, at the start: "/blog" later in the path is an ordinary segment.
    problem = assert_problem(await blog.get("/blog/v1/users/blog", headers=keys.headers()), 400)
    assert problem["errors"][0]["field"] == "user_id"
    assert_problem(await blog.get("/blog/blog/v1/users/me", headers=keys.headers()), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/health/live",
        "/docs",
        "/docs/openapi.json",
        "/docs/assets/swagger-ui.css",
        "/v1/users/me",
        "/blogger",
        "/BLOG/v1/users/me",
    ],
)
async def test_anything_outside_the_prefix_is_a_404_problem(blog, keys, path):
    response = await blog.get(path, headers=keys.headers())
    assert assert_problem(response, 404)["instance"] == path
    assert response.headers["x-request-id"], "requests outside the prefix are observed too"


async def test_a_404_inside_the_prefix_names_the_full_path(blog, keys):
    problem = assert_problem(await blog.get("/blog/nope", headers=keys.headers()), 404)
    assert problem["instance"] == "/blog/nope"
    put = await blog.put("/blog/v1/users/me", headers=keys.headers())
    assert assert_problem(put, 405)["instance"] == "/blog/v1/users/me"
