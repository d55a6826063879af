"""Posts over HTTP: every route and every status the contract lists for it, on both engines."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.support.problems import assert_problem


async def create(client, keys, content="hello", user="alice"):
    response = await client.post("/v1/posts", json={"content": content}, headers=keys.headers(user))
    assert response.status_code == 201, response.text
    return response


async def test_create_returns_201_location_etag_and_the_post(client, keys):
    response = await create(client, keys, "  hello world  ")
    post = response.json()
    assert set(post) == {"id", "owner_id", "content", "created_at", "updated_at", "version"}
    assert post["content"] == "hello world"
    assert post["version"] == 1
    assert post["owner_id"] == str(keys.user_id("alice"))
    assert response.headers["location"] == f"/v1/posts/{post['id']}"
    assert response.headers["etag"] == '"1"'
    assert post["created_at"].endswith("Z") or "+" in post["created_at"]

    fetched = await client.get(response.headers["location"], headers=keys.headers("bob"))
    assert fetched.status_code == 200
    assert fetched.json() == post
    assert fetched.headers["etag"] == '"1"'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "content"),
        ({"content": ""}, "content"),
        ({"content": "   "}, "content"),
        ({"content": 5}, "content"),
        ({"content": "x" * 10_001}, "content"),
        ({"content": "ok", "extra": 1}, "extra"),
        ([], "body"),
    ],
)
async def test_bad_bodies_are_400_naming_the_field_and_create_nothing(client, keys, body, field):
    response = await client.post("/v1/posts", json=body, headers=keys.headers())
    problem = assert_problem(response, 400)
    assert field in {e["field"] for e in problem["errors"]}
    listing = await client.get("/v1/posts", headers=keys.headers())
    assert listing.json()["total"] == 0


async def test_malformed_json_is_400(client, keys):
    response = await client.post(
        "/v1/posts", content=b'{"content": ', headers={**keys.headers(), "content-type": "application/json"}
    )
    assert_problem(response, 400)


async def test_body_over_one_mebibyte_is_413(client, keys):
    response = await client.post("/v1/posts", json={"content": "x" * (1024 * 1024)}, headers=keys.headers())
    assert_problem(response, 413)


async def test_unknown_post_is_404_and_malformed_id_is_400(client, keys):
    assert_problem(await client.get(f"/v1/posts/{uuid.uuid4()}", headers=keys.headers()), 404)
    problem = assert_problem(await client.get("/v1/posts/not-a-uuid", headers=keys.headers()), 400)
    assert problem["errors"][0]["field"] == "post_id"
    assert_problem(await client.patch(f"/v1/posts/{uuid.uuid4()}", json={"content": "x"}, headers=keys.headers()), 404)
    assert_problem(await client.delete(f"/v1/posts/{uuid.uuid4()}", headers=keys.headers()), 404)


async def test_patch_by_owner_bumps_version_and_etag(client, keys):
    post = (await create(client, keys)).json()
    response = await client.patch(
        f"/v1/posts/{post['id']}", json={"content": "changed"}, headers={**keys.headers(), "If-Match": '"1"'}
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response.headers["etag"] == '"2"'

    without_if_match = await client.patch(f"/v1/posts/{post['id']}", json={"content": "again"}, headers=keys.headers())
    assert without_if_match.json()["version"] == 3


async def test_stale_if_match_is_412_and_changes_nothing(client, keys):
    post = (await create(client, keys)).json()
    await client.patch(f"/v1/posts/{post['id']}", json={"content": "v2"}, headers=keys.headers())
    stale = await client.patch(
        f"/v1/posts/{post['id']}", json={"content": "v3"}, headers={**keys.headers(), "If-Match": '"1"'}
    )
    assert_problem(stale, 412)
    assert (await client.get(f"/v1/posts/{post['id']}", headers=keys.headers())).json()["content"] == "v2"


async def test_malformed_if_match_is_400(client, keys):
    post = (await create(client, keys)).json()
    response = await client.patch(
        f"/v1/posts/{post['id']}", json={"content": "v2"}, headers={**keys.headers(), "If-Match": "1"}
    )
    assert_problem(response, 400)


async def test_only_owner_or_admin_may_patch_or_delete(client, keys):
    post = (await create(client, keys)).json()
    url = f"/v1/posts/{post['id']}"

    assert_problem(await client.patch(url, json={"content": "mine now"}, headers=keys.headers("bob")), 403)
    assert_problem(await client.delete(url, headers=keys.headers("bob")), 403)
    assert (await client.get(url, headers=keys.headers())).json()["version"] == 1

    moderated = await client.patch(url, json={"content": "moderated"}, headers=keys.headers("root", ("admin",)))
    assert moderated.status_code == 200
    assert (await client.delete(url, headers=keys.headers("root", ("admin",)))).status_code == 204
    assert_problem(await client.get(url, headers=keys.headers()), 404)


async def test_delete_by_owner_takes_the_comments(client, keys):
    post = (await create(client, keys)).json()
    comment = await client.post(
        "/v1/comments", json={"post_id": post["id"], "content": "hi"}, headers=keys.headers("bob")
    )
    assert comment.status_code == 201
    assert (await client.delete(f"/v1/posts/{post['id']}", headers=keys.headers())).status_code == 204
    assert_problem(await client.get(f"/v1/comments/{comment.json()['id']}", headers=keys.headers()), 404)


async def test_listing_query_parameters(client, keys):
    for i in range(3):
        await create(client, keys, f"alice {i}")
    await create(client, keys, "bob 0", user="bob")

    everything = (await client.get("/v1/posts", headers=keys.headers())).json()
    assert (everything["total"], everything["limit"], everything["offset"]) == (4, 20, 0)
    assert everything["items"][0]["content"] == "bob 0"  # updated_at desc by default

    mine = (
        await client.get(
            "/v1/posts",
            params={
                "owner_id": str(keys.user_id("alice")),
                "sort_by": "created_at",
                "order": "asc",
                "limit": 2,
                "offset": 1,
            },
            headers=keys.headers(),
        )
    ).json()
    assert [p["content"] for p in mine["items"]] == ["alice 1", "alice 2"]
    assert mine["total"] == 3

    first = everything["items"][-1]["created_at"]
    window = (
        await client.get("/v1/posts", params={"from_date": first, "to_date": first}, headers=keys.headers())
    ).json()
    assert [p["content"] for p in window["items"]] == ["alice 0"], "date bounds are inclusive"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 10_001}, "offset"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "x" * 201}, "cursor"),
        ({"sort_by": "content"}, "sort_by"),
        ({"order": "up"}, "order"),
        ({"owner_id": "nobody"}, "owner_id"),
        ({"from_date": "yesterday"}, "from_date"),
        ({"from_date": "2026-02-01T00:00:00Z", "to_date": "2026-01-01T00:00:00Z"}, "from_date"),
    ],
)
async def test_bad_query_values_are_400_naming_the_parameter(client, keys, params, field):
    problem = assert_problem(await client.get("/v1/posts", params=params, headers=keys.headers()), 400)
    assert field in {e["field"] for e in problem["errors"]}


async def test_concurrent_patches_with_the_same_if_match_exactly_one_wins(client, keys):
    post = (await create(client, keys)).json()
    headers = {**keys.headers(), "If-Match": '"1"'}
    responses = await asyncio.gather(
        *(client.patch(f"/v1/posts/{post['id']}", json={"content": f"w{i}"}, headers=headers) for i in range(6))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 412, 412, 412, 412, 412]
    assert (await client.get(f"/v1/posts/{post['id']}", headers=keys.headers())).json()["version"] == 2


async def test_paging_by_cursor_walks_every_post_once_and_the_last_page_has_no_cursor(client, keys):
    for i in range(5):
        await create(client, keys, f"p{i}")
    params = {"sort_by": "created_at", "order": "asc", "limit": 2}
    seen, pages = [], 0
    page = (await client.get("/v1/posts", params=params, headers=keys.headers())).json()
    while True:
        pages += 1
        assert (page["total"], page["limit"], page["offset"]) == (5, 2, 0)
        seen += [p["content"] for p in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = {**params, "cursor": page["next_cursor"]}
        page = (await client.get("/v1/posts", params=cursor, headers=keys.headers())).json()
    assert (seen, pages) == ([f"p{i}" for i in range(5)], 3)
    everything = (await client.get("/v1/posts", params={"limit": 5}, headers=keys.headers())).json()
    assert everything["next_cursor"] is None


async def test_a_cursor_with_offset_or_under_other_filters_is_a_400(client, keys):
    for i in range(3):
        await create(client, keys, f"p{i}")
    first = (await client.get("/v1/posts", params={"limit": 1}, headers=keys.headers())).json()
    cursor = first["next_cursor"]
    for params in (
        {"cursor": cursor, "offset": 0},
        {"cursor": cursor, "offset": 1},
        {"cursor": cursor, "order": "asc"},
        {"cursor": cursor, "owner_id": str(keys.user_id("alice"))},
    ):
        problem = assert_problem(await client.get("/v1/posts", params=params, headers=keys.headers()), 400)
        assert [e["field"] for e in problem["errors"]] == ["cursor"], params
    comments = await client.get("/v1/comments", params={"cursor": cursor}, headers=keys.headers())
    assert [e["field"] for e in assert_problem(comments, 400)["errors"]] == ["cursor"]


async def test_offset_is_capped_and_the_refusal_points_to_cursors(client, keys):
    problem = assert_problem(await client.get("/v1/posts", params={"offset": 10_001}, headers=keys.headers()), 400)
    assert "cursor" in problem["errors"][0]["message"]
    assert (await client.get("/v1/posts", params={"offset": 10_000}, headers=keys.headers())).status_code == 200
