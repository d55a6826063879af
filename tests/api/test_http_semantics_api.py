"""HTTP semantics clients and caches rely on (RFC 9110, RFC 9111): conditional requests, HEAD,
OPTIONS and Allow, media types, CORS exposure, and bodies that are not UTF-8 JSON."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from adapters.auth.keys import KeySource
from app.container import build_container
from app.main import create_app

# region: blog
from domain.model import CONTENT_MAX_LENGTH
from tests.api.test_posts_api import create

# endregion
from tests.conftest import settings_for
from tests.support.keycloak_events import admin_event, encode, sign
from tests.support.problems import assert_problem
from tests.support.tokens import TestKeys

# region: webhook
WEBHOOK = "/v1/authentication/webhook/events-synchronization"
WEBHOOK_SECRET = "semantics-secret"
# endregion


@pytest.fixture
async def app(sqlite_url: str, tmp_path: Path, keys: TestKeys) -> AsyncIterator[AsyncTestClient[Any]]:
    """The whole app on SQLite: what these tests prove does not depend on the engine."""
    env = {"CORS_ORIGINS": "https://front.test"}
    # region: webhook
    env["KEYCLOAK_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    # endregion
    settings = settings_for(sqlite_url, tmp_path, **env)
    container = build_container(settings, overrides={KeySource: keys})
    async with AsyncTestClient(app=create_app(container)) as client:
        yield client


# region: blog
async def _post_and_comment(client: AsyncTestClient[Any], keys: TestKeys) -> tuple[dict[str, Any], dict[str, Any]]:
    post = (await create(client, keys)).json()
    comment = await client.post(
        "/v1/comments", json={"post_id": post["id"], "content": "first"}, headers=keys.headers("alice")
    )
    return post, comment.json()


# endregion


# region: blog
# -- If-Match on PATCH and DELETE ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["posts", "comments"])
async def test_delete_with_a_stale_if_match_is_412_and_deletes_nothing(client, keys, kind):
    post, comment = await _post_and_comment(client, keys)
    item = post if kind == "posts" else comment
    url = f"/v1/{kind}/{item['id']}"
    alice = keys.headers("alice")
    assert (await client.patch(url, json={"content": "v2"}, headers=alice)).status_code == 200

    assert_problem(await client.delete(url, headers={**alice, "If-Match": '"1"'}), 412)
    assert (await client.get(url, headers=alice)).json()["version"] == 2
    if kind == "posts":
        assert (await client.get(f"/v1/comments/{comment['id']}", headers=alice)).status_code == 200

    assert (await client.delete(url, headers={**alice, "If-Match": '"2"'})).status_code == 204
    assert_problem(await client.get(url, headers=alice), 404)


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_if_match_is_satisfied_by_any_listed_strong_tag_that_is_current(client, keys, method):
    post = (await create(client, keys)).json()
    url = f"/v1/posts/{post['id']}"
    alice = keys.headers("alice")
    await client.patch(url, json={"content": "v2"}, headers=alice)
    body = {"json": {"content": "v3"}} if method == "PATCH" else {}

    assert_problem(await client.request(method, url, headers={**alice, "If-Match": '"1", W/"2"'}, **body), 412)
    response = await client.request(method, url, headers={**alice, "If-Match": '"1", "2"'}, **body)
    assert response.status_code == (200 if method == "PATCH" else 204), response.text


# endregion


# -- Conditional GET ----------------------------------------------------------------------------


async def test_if_none_match_with_the_current_tag_is_304_with_the_etag_and_no_body(app, keys):
    alice = keys.headers("alice")
    me = await app.get("/v1/users/me", headers=alice)
    urls = [f"/v1/users/{me.json()['id']}", "/v1/users/me"]
    # region: blog
    post, comment = await _post_and_comment(app, keys)
    urls += [f"/v1/posts/{post['id']}", f"/v1/comments/{comment['id']}"]
    # endregion
    for url in urls:
        full = await app.get(url, headers=alice)
        tag = full.headers["etag"]
        assert tag.startswith('"'), (url, tag)
        assert tag.endswith('"'), (url, tag)
        for header in (tag, f'"nope", {tag}', f"W/{tag}", "*"):
            for method in ("GET", "HEAD"):
                cached = await app.request(method, url, headers={**alice, "If-None-Match": header})
                assert cached.status_code == 304, (url, method, header)
                assert cached.content == b""
                assert cached.headers["etag"] == tag
                assert "content-type" not in cached.headers
        stale = await app.get(url, headers={**alice, "If-None-Match": '"999999"'})
        assert stale.status_code == 200
        assert stale.json() == full.json()

    # region: blog
    # A change gives the post a new tag: the old one no longer matches.
    post_url = f"/v1/posts/{post['id']}"
    old = (await app.get(post_url, headers=alice)).headers["etag"]
    await app.patch(post_url, json={"content": "v2"}, headers=alice)
    fresh = await app.get(post_url, headers={**alice, "If-None-Match": old})
    assert fresh.status_code == 200
    assert fresh.headers["etag"] == '"2"'
    # endregion


# region: webhook
async def test_a_user_s_tag_changes_when_the_user_does(app, keys):
    alice = keys.headers("alice")
    before = await app.get("/v1/users/me", headers=alice)
    assert (await app.get("/v1/users/me", headers=alice)).headers["etag"] == before.headers["etag"]
    user_id = before.json()["id"]
    event = encode(admin_event("UPDATE", user_id, 10**13, email="new@example.test"))
    signed = await app.post(
        WEBHOOK,
        content=event,
        headers={"Content-Type": "application/json", "X-Keycloak-Signature": sign(event, WEBHOOK_SECRET)},
    )
    assert signed.status_code == 204, signed.text
    after = await app.get(f"/v1/users/{user_id}", headers={**alice, "If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.json()["email"] == "new@example.test"
    assert after.headers["etag"] != before.headers["etag"]


# endregion


async def test_if_none_match_on_an_error_or_a_listing_changes_nothing(app, keys):
    alice = {**keys.headers("alice"), "If-None-Match": "*"}
    assert_problem(await app.get(f"/v1/users/{uuid.uuid4()}", headers=alice), 404)
    # region: blog
    assert_problem(await app.get(f"/v1/posts/{uuid.uuid4()}", headers=alice), 404)
    assert (await app.get("/v1/posts", headers=alice)).status_code == 200
    # endregion


# -- HEAD, OPTIONS and Allow ----------------------------------------------------------------------


async def test_head_works_wherever_get_does_with_the_get_headers_and_no_body(app, keys):
    alice = keys.headers("alice")
    urls = [
        "/health/live",
        "/health/ready",
        "/v1/users/me",
        "/v1/service-context",
        "/docs",
        "/docs/openapi.json",
        "/docs/assets/swagger-ui.css",
    ]
    # region: blog
    post, _ = await _post_and_comment(app, keys)
    urls += ["/v1/posts", f"/v1/posts/{post['id']}", "/v1/comments"]
    # endregion
    for url in urls:
        got = await app.get(url, headers=alice)
        head = await app.head(url, headers=alice)
        assert (head.status_code, got.status_code) == (200, 200), url
        assert head.content == b"", url
        for name in ("content-type", "content-length", "etag"):
            assert head.headers.get(name) == got.headers.get(name), (url, name)
    unauthenticated = await app.head("/v1/users/me")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["www-authenticate"].startswith("Bearer")
    assert unauthenticated.content == b""
    assert (await app.head(f"/v1/users/{uuid.uuid4()}", headers=alice)).status_code == 404
    # region: webhook
    refused = await app.head(WEBHOOK)  # no GET there: no HEAD either
    assert refused.status_code == 405
    assert refused.headers["allow"] == "OPTIONS, POST"
    # endregion


ALLOW = {
    # region: blog
    "/v1/posts": "GET, HEAD, OPTIONS, POST",
    "/v1/posts/{id}": "DELETE, GET, HEAD, OPTIONS, PATCH",
    "/v1/comments": "GET, HEAD, OPTIONS, POST",
    "/v1/comments/{id}": "DELETE, GET, HEAD, OPTIONS, PATCH",
    # endregion
    "/v1/users/me": "GET, HEAD, OPTIONS",
    "/v1/users/{id}": "GET, HEAD, OPTIONS",
    "/v1/service-context": "GET, HEAD, OPTIONS, PATCH",
    # region: webhook
    WEBHOOK: "OPTIONS, POST",
    # endregion
    "/health/live": "GET, HEAD, OPTIONS",
    "/health/ready": "GET, HEAD, OPTIONS",
    "/docs/openapi.json": "GET, HEAD, OPTIONS",
}


@pytest.mark.parametrize("path", list(ALLOW))
async def test_options_and_every_405_list_all_methods_of_the_path(app, keys, path):
    url = path.replace("{id}", str(uuid.uuid4()))
    options = await app.options(url, headers=keys.headers("alice"))
    assert options.status_code == 204
    assert options.headers["allow"] == ALLOW[path]
    allowed = set(ALLOW[path].split(", "))
    for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - allowed):
        refused = await app.request(method, url, headers=keys.headers("alice"))
        assert_problem(refused, 405)
        assert refused.headers["allow"] == ALLOW[path], method


async def test_options_needs_the_token_on_v1_and_an_unknown_path_has_no_allow(app):
    assert_problem(await app.options("/v1/users/me"), 401)  # like every method on /v1
    unknown = await app.options("/nowhere")
    assert_problem(unknown, 404)
    assert "allow" not in unknown.headers


async def test_a_cors_preflight_is_still_answered_by_the_cors_policy(app):
    preflight = await app.options(
        "/v1/service-context", headers={"Origin": "https://front.test", "Access-Control-Request-Method": "PATCH"}
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == "https://front.test"
    assert "PATCH" in preflight.headers["access-control-allow-methods"]


async def test_cors_responses_expose_etag_and_location(app, keys):
    origin = {"Origin": "https://front.test"}
    me = await app.get("/v1/users/me", headers={**keys.headers("alice"), **origin})
    assert me.status_code == 200
    exposed = {name.strip().lower() for name in me.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "location"} <= exposed


# -- Media types, bodies, Authorization ---------------------------------------------------------


async def _body_routes(app: AsyncTestClient[Any], keys: TestKeys) -> list[tuple[str, str, bytes]]:
    """Every route that takes a body, with a valid one (the posts' and comments' on a post and comment made here)."""
    routes = [("PATCH", "/v1/service-context", b'{"maintenance": false}')]
    # region: blog
    post, comment = await _post_and_comment(app, keys)
    routes += [
        ("POST", "/v1/posts", b'{"content": "x"}'),
        ("PATCH", f"/v1/posts/{post['id']}", b'{"content": "x"}'),
        ("POST", "/v1/comments", b'{"post_id": "%s", "content": "x"}' % post["id"].encode()),
        ("PATCH", f"/v1/comments/{comment['id']}", b'{"content": "x"}'),
    ]
    # endregion
    return routes


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx", "json"]
)
async def test_a_body_that_is_not_declared_json_is_415_and_changes_nothing(app, keys, content_type):
    routes = await _body_routes(app, keys)
    admin = keys.headers("root", ("admin",))
    # region: blog
    totals = [(await app.get(f"/v1/{kind}", headers=admin)).json()["total"] for kind in ("posts", "comments")]
    # endregion
    headers = {**admin, **({"Content-Type": content_type} if content_type else {})}
    for method, url, body in routes:
        refused = await app.request(method, url, content=body, headers=headers)
        assert_problem(refused, 415)
    # region: webhook
    user_id = uuid.uuid4()
    event = encode(admin_event("CREATE", user_id, 1, username="zed"))
    signature = {"X-Keycloak-Signature": sign(event, WEBHOOK_SECRET)}
    assert_problem(await app.post(WEBHOOK, content=event, headers={**headers, **signature}), 415)
    # endregion

    # region: blog
    assert [(await app.get(f"/v1/{kind}", headers=admin)).json()["total"] for kind in ("posts", "comments")] == totals
    for _, url, _ in routes:
        if url.startswith(("/v1/posts/", "/v1/comments/")):
            assert (await app.get(url, headers=admin)).json()["version"] == 1
    # endregion
    assert (await app.get("/v1/service-context", headers=admin)).json()["maintenance"] is False
    # region: webhook
    assert_problem(await app.get(f"/v1/users/{user_id}", headers=admin), 404)
    # endregion


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"],
)
async def test_json_media_types_with_parameters_are_accepted(app, keys, content_type):
    routes = await _body_routes(app, keys)
    admin = {**keys.headers("root", ("admin",)), "Content-Type": content_type}
    for method, url, body in routes:
        response = await app.request(method, url, content=body, headers=admin)
        assert response.status_code in (200, 201), (method, url, response.text)


@pytest.mark.parametrize("raw", [b"a\xffb", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"])
async def test_json_that_is_not_utf8_is_400_on_every_body_route(app, keys, raw):
    routes = await _body_routes(app, keys)
    admin = {**keys.headers("root", ("admin",)), "Content-Type": "application/json"}
    for method, url, body in routes:
        bad = body.replace(b'"x"', b'"' + raw + b'"').replace(b"false", b'"' + raw + b'"')
        problem = assert_problem(await app.request(method, url, content=bad, headers=admin), 400)
        assert problem["errors"][0]["field"] == "body"
    # region: webhook
    event = encode(admin_event("CREATE", uuid.uuid4(), 1, username="zed")).replace(b"zed", raw)
    hook = await app.post(
        WEBHOOK,
        content=event,
        headers={"Content-Type": "application/json", "X-Keycloak-Signature": sign(event, WEBHOOK_SECRET)},
    )
    assert_problem(hook, 400)
    # endregion


async def test_two_authorization_headers_are_400(app, keys):
    alice = keys.headers("alice")["Authorization"]
    for second in (alice, "Bearer other"):
        response = await app.get("/v1/users/me", headers=[("Authorization", alice), ("Authorization", second)])
        problem = assert_problem(response, 400)
        assert problem["errors"][0]["field"] == "Authorization"


# region: blog
async def test_content_at_the_limit_after_trimming_is_accepted_however_padded(app, keys):
    content = "x" * CONTENT_MAX_LENGTH
    created = await app.post("/v1/posts", json={"content": "  " + content + "\n "}, headers=keys.headers("alice"))
    assert created.status_code == 201, created.text
    assert created.json()["content"] == content
    longer = await app.post("/v1/posts", json={"content": " " + content + "x "}, headers=keys.headers("alice"))
    assert_problem(longer, 400)


# endregion
