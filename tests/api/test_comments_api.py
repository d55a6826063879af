from __future__ import annotations

import uuid

from tests.api.test_posts_api import create
from tests.support.problems import assert_problem


async def comment(client, keys, post_id, content="nice", user="bob"):
    return await client.post("/v1/comments", json={"post_id": post_id, "content": content}, headers=keys.headers(user))


async def test_comment_lifecycle(client, keys):
    post = (await create(client, keys)).json()
    created = await comment(client, keys, post["id"], "  first!  ")
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "post_id", "owner_id", "content", "created_at", "updated_at", "version"}
    assert (body["content"], body["post_id"], body["version"]) == ("first!", post["id"], 1)
    assert created.headers["location"] == f"/v1/comments/{body['id']}"
    assert created.headers["etag"] == '"1"'

    url = created.headers["location"]
    fetched = await client.get(url, headers=keys.headers())
    assert fetched.json() == body
    assert fetched.headers["etag"] == '"1"'

    assert_problem(await client.patch(url, json={"content": "by the post owner"}, headers=keys.headers("alice")), 403)
    edited = await client.patch(url, json={"content": "edited"}, headers={**keys.headers("bob"), "If-Match": '"1"'})
    assert edited.status_code == 200
    assert edited.headers["etag"] == '"2"'
    stale = await client.patch(url, json={"content": "again"}, headers={**keys.headers("bob"), "If-Match": '"1"'})
    assert_problem(stale, 412)

    assert_problem(await client.delete(url, headers=keys.headers("carol")), 403)  # the post's owner could (moderation)
    assert (await client.delete(url, headers=keys.headers("bob"))).status_code == 204
    assert_problem(await client.get(url, headers=keys.headers()), 404)


async def test_comment_on_unknown_post_is_404_and_bad_bodies_400(client, keys):
    assert_problem(await comment(client, keys, str(uuid.uuid4())), 404)
    problem = assert_problem(await comment(client, keys, "not-a-uuid"), 400)
    assert problem["errors"][0]["field"] == "post_id"
    post = (await create(client, keys)).json()
    assert_problem(await comment(client, keys, post["id"], "   "), 400)
    missing = await client.post("/v1/comments", json={"content": "x"}, headers=keys.headers())
    assert assert_problem(missing, 400)["errors"][0]["field"] == "post_id"


async def test_comment_listing_by_post_and_owner(client, keys):
    first = (await create(client, keys, "first")).json()
    second = (await create(client, keys, "second")).json()
    await comment(client, keys, first["id"], "a", user="bob")
    await comment(client, keys, second["id"], "b", user="bob")
    await comment(client, keys, second["id"], "c", user="carol")

    on_second = (await client.get("/v1/comments", params={"post_id": second["id"]}, headers=keys.headers())).json()
    assert {c["content"] for c in on_second["items"]} == {"b", "c"}
    assert on_second["total"] == 2

    bobs = (
        await client.get(
            "/v1/comments",
            params={"post_id": second["id"], "owner_id": str(keys.user_id("bob")), "order": "asc"},
            headers=keys.headers(),
        )
    ).json()
    assert [c["content"] for c in bobs["items"]] == ["b"]
    assert_problem(await client.get("/v1/comments", params={"post_id": "x"}, headers=keys.headers()), 400)
    assert_problem(await client.get("/v1/comments/nope", headers=keys.headers()), 400)
    assert_problem(await client.get(f"/v1/comments/{uuid.uuid4()}", headers=keys.headers()), 404)
