"""Sharing over HTTP, on both engines: editors (users and Keycloak groups), who may change them,
what they grant, the errors, the editable listing, and group membership from the webhook."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from lagom import Container
from litestar.testing import AsyncTestClient

from app.main import create_app
from tests.api.test_keycloak_webhook_api import deliver
from tests.api.test_posts_api import create
from tests.support.keycloak_events import SECRET, group_event
from tests.support.problems import assert_problem

STAFF = uuid.UUID("0e6c1d2a-7b3f-4c5d-8e9f-a1b2c3d4e5f6")
ADMIN = ("admin",)


@pytest.fixture
async def api(engine: Any, make_container: Callable[..., Container]) -> AsyncIterator[AsyncTestClient[Any]]:
    """The app with KEYCLOAK_WEBHOOK_SECRET set, so that tests can deliver group events."""
    async with AsyncTestClient(app=create_app(make_container(KEYCLOAK_WEBHOOK_SECRET=SECRET))) as client:
        yield client


async def known(client, keys, *users: str) -> None:
    for name in users:
        assert (await client.get("/v1/users/me", headers=keys.headers(name))).status_code == 200


async def editors(client, keys, post_id: str, user: str = "alice") -> Any:
    response = await client.get(f"/v1/posts/{post_id}/editors", headers=keys.headers(user))
    return response.json() if response.status_code == 200 else response.status_code


async def patch(client, keys, post_id: str, user: str) -> int:
    response = await client.patch(f"/v1/posts/{post_id}", json={"content": f"by {user}"}, headers=keys.headers(user))
    return response.status_code


async def test_the_owner_shares_with_a_user_who_may_then_edit_but_not_delete_or_reshare(api, keys):
    await known(api, keys, "bob", "carol")
    post = (await create(api, keys)).json()["id"]
    bob, carol = keys.user_id("bob"), keys.user_id("carol")

    assert await patch(api, keys, post, "bob") == 403
    for _ in range(2):  # a repeat changes nothing
        response = await api.put(f"/v1/posts/{post}/editors/{bob}", headers=keys.headers("alice"))
        assert response.status_code == 204, response.text
    assert await editors(api, keys, post) == {"users": [str(bob)], "groups": []}
    assert await editors(api, keys, post, "bob") == {"users": [str(bob)], "groups": []}
    assert await editors(api, keys, post, "carol") == 403

    assert await patch(api, keys, post, "bob") == 200
    assert (await api.delete(f"/v1/posts/{post}", headers=keys.headers("bob"))).status_code == 403
    assert (await api.put(f"/v1/posts/{post}/editors/{carol}", headers=keys.headers("bob"))).status_code == 403

    for _ in range(2):
        assert (await api.delete(f"/v1/posts/{post}/editors/{bob}", headers=keys.headers("alice"))).status_code == 204
    assert await patch(api, keys, post, "bob") == 403
    assert await editors(api, keys, post) == {"users": [], "groups": []}


async def test_an_admin_changes_anyones_editors(api, keys):
    await known(api, keys, "bob")
    post = (await create(api, keys)).json()["id"]
    bob = keys.user_id("bob")
    response = await api.put(f"/v1/posts/{post}/editors/{bob}", headers=keys.headers("root", ADMIN))
    assert response.status_code == 204
    assert await editors(api, keys, post, "bob") == {"users": [str(bob)], "groups": []}


@pytest.mark.parametrize(
    ("path", "caller", "status"),
    [
        ("/v1/posts/{post}/editors/{nobody}", "alice", 404),  # unknown user
        ("/v1/posts/{unknown}/editors/{bob}", "alice", 404),  # unknown post
        ("/v1/posts/{post}/editor-groups/{staff}", "alice", 404),  # a group Keycloak never announced
        ("/v1/posts/{post}/editors/{alice}", "alice", 400),  # the owner herself
        ("/v1/posts/{post}/editors/not-a-uuid", "alice", 400),
        ("/v1/posts/not-a-uuid/editors/{bob}", "alice", 400),
        ("/v1/posts/{post}/editor-groups/not-a-uuid", "alice", 400),
        ("/v1/posts/{post}/editors/{bob}", "carol", 403),  # not the owner
        ("/v1/posts/{post}/editor-groups/{staff}", "carol", 403),
    ],
)
async def test_refused_shares_change_nothing(api, keys, path, caller, status):
    await known(api, keys, "bob", "carol")
    post = (await create(api, keys)).json()["id"]
    url = path.format(
        post=post,
        unknown=uuid.uuid4(),
        nobody=uuid.uuid4(),
        bob=keys.user_id("bob"),
        alice=keys.user_id("alice"),
        staff=STAFF,
    )
    assert_problem(await api.put(url, headers=keys.headers(caller)), status)
    assert await editors(api, keys, post) == {"users": [], "groups": []}


async def test_a_keycloak_group_share_follows_membership_events(api, keys):
    await known(api, keys, "bob")
    post = (await create(api, keys)).json()["id"]
    bob = keys.user_id("bob")
    assert (await deliver(api, group_event("CREATE", STAFF, 10, user_id=bob, phase_two=True))).status_code == 204
    for _ in range(2):
        assert (
            await api.put(f"/v1/posts/{post}/editor-groups/{STAFF}", headers=keys.headers("alice"))
        ).status_code == 204
    assert await editors(api, keys, post, "bob") == {"users": [], "groups": [str(STAFF)]}
    assert await patch(api, keys, post, "bob") == 200

    assert (await deliver(api, group_event("DELETE", STAFF, 20, user_id=bob))).status_code == 204
    assert await patch(api, keys, post, "bob") == 403  # the next request after the event
    assert (await deliver(api, group_event("CREATE", STAFF, 15, user_id=bob))).status_code == 204  # late: stale
    assert await patch(api, keys, post, "bob") == 403
    assert (await deliver(api, group_event("CREATE", STAFF, 30, user_id=bob))).status_code == 204
    assert await patch(api, keys, post, "bob") == 200

    assert (await deliver(api, group_event("DELETE", STAFF, 40))).status_code == 204  # the group itself
    assert await patch(api, keys, post, "bob") == 403
    assert await editors(api, keys, post) == {"users": [], "groups": []}
    assert_problem(await api.put(f"/v1/posts/{post}/editor-groups/{STAFF}", headers=keys.headers("alice")), 404)

    unshared = await api.delete(f"/v1/posts/{post}/editor-groups/{STAFF}", headers=keys.headers("alice"))
    assert unshared.status_code == 204


async def test_the_post_owner_deletes_any_comment_on_it_but_does_not_edit_it(api, keys):
    post = (await create(api, keys)).json()["id"]
    comment = await api.post("/v1/comments", json={"post_id": post, "content": "spam"}, headers=keys.headers("bob"))
    assert comment.status_code == 201, comment.text
    url = f"/v1/comments/{comment.json()['id']}"
    assert (await api.patch(url, json={"content": "x"}, headers=keys.headers("alice"))).status_code == 403
    assert (await api.delete(url, headers=keys.headers("carol"))).status_code == 403
    assert (await api.delete(url, headers=keys.headers("alice"))).status_code == 204


async def test_editable_lists_what_the_caller_may_patch_and_counts_it(api, keys):
    await known(api, keys, "bob", "carol")
    bob = keys.user_id("bob")
    own = (await create(api, keys, "bob's own", user="bob")).json()["id"]
    direct = (await create(api, keys, "shared with bob")).json()["id"]
    via_group = (await create(api, keys, "shared with staff")).json()["id"]
    await create(api, keys, "alice only")
    await create(api, keys, "carol's", user="carol")
    await deliver(api, group_event("CREATE", STAFF, 10, user_id=bob))
    assert (await api.put(f"/v1/posts/{direct}/editors/{bob}", headers=keys.headers("alice"))).status_code == 204
    assert (
        await api.put(f"/v1/posts/{via_group}/editor-groups/{STAFF}", headers=keys.headers("alice"))
    ).status_code == 204

    page = (await api.get("/v1/posts?editable=true&limit=2", headers=keys.headers("bob"))).json()
    assert page["total"] == 3
    rest = (await api.get("/v1/posts?editable=true&limit=2&offset=2", headers=keys.headers("bob"))).json()
    assert {p["id"] for p in page["items"] + rest["items"]} == {own, direct, via_group}
    after = await api.get(f"/v1/posts?editable=true&limit=2&cursor={page['next_cursor']}", headers=keys.headers("bob"))
    assert [p["id"] for p in after.json()["items"]] == [p["id"] for p in rest["items"]]
    assert after.json()["next_cursor"] is None
    # a cursor is bound to its filters: another caller's editable listing refuses it
    assert_problem(
        await api.get(f"/v1/posts?editable=true&limit=2&cursor={page['next_cursor']}", headers=keys.headers("carol")),
        400,
    )
    for listed in page["items"] + rest["items"]:
        assert await patch(api, keys, listed["id"], "bob") == 200

    mine = (
        await api.get(f"/v1/posts?editable=true&owner_id={keys.user_id('alice')}", headers=keys.headers("bob"))
    ).json()
    assert mine["total"] == 2  # filters combine
    everything = (await api.get("/v1/posts?editable=true", headers=keys.headers("root", ADMIN))).json()
    assert everything["total"] == 5
    assert (await api.get("/v1/posts?editable=false", headers=keys.headers("bob"))).json()["total"] == 5
    assert_problem(await api.get("/v1/posts?editable=maybe", headers=keys.headers("bob")), 400)
