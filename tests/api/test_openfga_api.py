"""The whole app with OpenFGA configured (the stand-in server), over HTTP, on both engines.

The app runs on the test client's own event loop, with its relay as a background task: the tests
wait for the stand-in to receive what they expect (with a generous deadline), never for a duration.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from tests.support.eventually import eventually
from tests.support.fake_openfga import STORE_ID, FakeOpenFGA, TupleKey
from tests.support.http_stub import StubRequest, StubResponse

# region: webhook
from tests.support.keycloak_events import SECRET, encode, group_event, sign

# endregion
from tests.support.openfga import openfga_env

PROBLEM = "application/problem+json"
ADMIN = ("admin",)


class WritesDown(FakeOpenFGA):
    """Answers checks but refuses every write with a 503: tuples never arrive while ``writes_down``."""

    writes_down = False

    def handle(self, request: StubRequest) -> StubResponse:
        if self.writes_down and request.path.endswith("/write"):
            return StubResponse.json({"code": "unavailable", "message": "Service Unavailable"}, 503)
        return super().handle(request)


@pytest.fixture
def fga() -> Iterator[WritesDown]:
    with WritesDown() as server:
        yield server


@pytest.fixture
async def app_client(engine: Any, make_container: Callable[..., Any], fga: WritesDown) -> AsyncIterator[Any]:
    container = make_container(
        **openfga_env(
            fga,
            OPENFGA_TIMEOUT_MS="300",
            OUTBOX_POLL_SECONDS="0.2",
            OUTBOX_BACKOFF_BASE_SECONDS="0.05",
            OUTBOX_BACKOFF_MAX_SECONDS="0.2",
            OUTBOX_LEASE_SECONDS="5",
            # region: webhook
            KEYCLOAK_WEBHOOK_SECRET=SECRET,
            # endregion
        )
    )
    async with AsyncTestClient(app=create_app(container)) as client:
        yield client


def owner(keys: Any, user: str, kind: str, item_id: str) -> TupleKey:
    return (f"user:{keys.user_id(user)}", "owner", f"{kind}:{item_id}")


async def create_post(client: Any, keys: Any, user: str = "alice") -> dict[str, Any]:
    response = await client.post("/v1/posts", json={"content": "hello"}, headers=keys.headers(user))
    assert response.status_code == 201, response.text
    return dict(response.json())


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers["retry-after"]
    assert "permission service" in response.json()["detail"]


async def test_the_owner_may_patch_at_once_before_the_tuple_reached_openfga(app_client, keys, fga):
    fga.writes_down = True
    post = await create_post(app_client, keys)
    url = f"/v1/posts/{post['id']}"

    patched = await app_client.patch(url, json={"content": "edited"}, headers=keys.headers("alice"))

    assert patched.status_code == 200, patched.text
    assert fga.tuples == set(), "the tuple had not arrived: the owner came from the row, as a contextual tuple"
    check = fga.requests_to(f"/stores/{STORE_ID}/check")[-1].json()
    assert check["contextual_tuples"]["tuple_keys"] == [
        dict(zip(("user", "relation", "object"), owner(keys, "alice", "post", post["id"]), strict=True))
    ]

    fga.writes_down = False
    await eventually(lambda: fga.tuples == {owner(keys, "alice", "post", post["id"])}, "the owner tuple")


async def test_a_stranger_is_403_and_an_admin_is_allowed_without_asking_openfga(app_client, keys, fga):
    post = await create_post(app_client, keys)
    url = f"/v1/posts/{post['id']}"

    stranger = await app_client.patch(url, json={"content": "hijack"}, headers=keys.headers("mallory"))
    assert stranger.status_code == 403
    assert (await app_client.delete(url, headers=keys.headers("mallory"))).status_code == 403

    checks_before = fga.check_count
    admin = await app_client.patch(url, json={"content": "moderated"}, headers=keys.headers("root", ADMIN))
    assert admin.status_code == 200
    assert fga.check_count == checks_before
    assert (await app_client.get(url, headers=keys.headers("bob"))).json()["content"] == "moderated"


async def test_an_editor_granted_in_openfga_may_update_but_not_delete(app_client, keys, fga):
    post = await create_post(app_client, keys)
    url = f"/v1/posts/{post['id']}"
    fga.add_tuples((f"user:{keys.user_id('bob')}", "editor", f"post:{post['id']}"))

    assert (await app_client.patch(url, json={"content": "co-written"}, headers=keys.headers("bob"))).status_code == 200
    assert (await app_client.delete(url, headers=keys.headers("bob"))).status_code == 403


async def test_deleting_a_post_deletes_its_and_its_comments_tuples(app_client, keys, fga):
    post = await create_post(app_client, keys, "alice")
    comment = await app_client.post(
        "/v1/comments", json={"post_id": post["id"], "content": "nice"}, headers=keys.headers("bob")
    )
    assert comment.status_code == 201
    both = {
        owner(keys, "alice", "post", post["id"]),
        owner(keys, "bob", "comment", comment.json()["id"]),
        (f"post:{post['id']}", "post", f"comment:{comment.json()['id']}"),
    }
    await eventually(lambda: fga.tuples == both, "the post's and the comment's tuples")

    assert (await app_client.delete(f"/v1/posts/{post['id']}", headers=keys.headers("alice"))).status_code == 204

    await eventually(lambda: fga.tuples == set(), "both tuples deleted")


@pytest.mark.parametrize("fault", ["down", "500", "hung"])
async def test_openfga_failing_is_a_503_and_changes_nothing(app_client, keys, fga, fault):
    post = await create_post(app_client, keys)
    url = f"/v1/posts/{post['id']}"
    await eventually(lambda: bool(fga.tuples), "the owner tuple")  # the relay is idle now

    if fault == "down":
        fga.stop()
    elif fault == "500":
        fga.fail_next(2, 500)  # the check and its one retry
    else:
        fga.delay_seconds = 1.0  # longer than OPENFGA_TIMEOUT_MS=300
    assert_unavailable(await app_client.patch(url, json={"content": "lost"}, headers=keys.headers("alice")))
    if fault == "down":
        assert_unavailable(await app_client.delete(url, headers=keys.headers("alice")))
    fga.delay_seconds = 0
    if not fga.running:
        fga.start()

    stored = await app_client.get(url, headers=keys.headers("alice"))
    assert stored.json()["content"] == "hello"


async def test_readiness_reports_the_backlog_and_stays_ready_while_openfga_is_down(app_client, keys, fga):
    ready = (await app_client.get("/health/ready")).json()
    assert ready["outbox"] == {"pending": 0, "oldest_pending_age_seconds": None}

    fga.stop()
    post = await create_post(app_client, keys)  # created although OpenFGA is down
    response = await app_client.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["outbox"]["pending"] == 1
    assert response.json()["outbox"]["oldest_pending_age_seconds"] >= 0

    fga.start()
    # Nothing is lost: delivered after the outage, by the relay's own retry.
    await eventually(lambda: fga.tuples == {owner(keys, "alice", "post", post["id"])}, "the delayed tuple")

    async def drained() -> bool:
        return (await app_client.get("/health/ready")).json()["outbox"]["pending"] == 0

    await eventually(drained, "the backlog to drain")


# region: webhook
async def deliver(client: Any, event: dict[str, Any]) -> None:
    body = encode(event)
    headers = {"Content-Type": "application/json", "X-Keycloak-Signature": sign(body)}
    response = await client.post("/v1/authentication/webhook/events-synchronization", content=body, headers=headers)
    assert response.status_code == 204, response.text


async def test_shares_and_memberships_reach_openfga_through_the_outbox(app_client, keys, fga):
    staff = "0e6c1d2a-7b3f-4c5d-8e9f-a1b2c3d4e5f6"
    bob, carol = keys.user_id("bob"), keys.user_id("carol")
    for name in ("bob", "carol"):
        assert (await app_client.get("/v1/users/me", headers=keys.headers(name))).status_code == 200
    post = await create_post(app_client, keys)
    url = f"/v1/posts/{post['id']}"
    await deliver(app_client, group_event("CREATE", staff, 10, user_id=bob))
    assert (await app_client.put(f"{url}/editor-groups/{staff}", headers=keys.headers("alice"))).status_code == 204
    assert (await app_client.put(f"{url}/editors/{carol}", headers=keys.headers("alice"))).status_code == 204
    shared = {
        (f"user:{bob}", "member", f"group:{staff}"),
        (f"group:{staff}#member", "editor", f"post:{post['id']}"),
        (f"user:{carol}", "editor", f"post:{post['id']}"),
    }
    await eventually(lambda: shared <= fga.tuples, "the membership and both shares")
    for name in ("bob", "carol"):  # OpenFGA answers: through the group, and directly
        patched = await app_client.patch(url, json={"content": f"by {name}"}, headers=keys.headers(name))
        assert patched.status_code == 200, patched.text

    await deliver(app_client, group_event("DELETE", staff, 20))  # the group is gone in Keycloak
    of_the_group = shared - {shared_with_carol(carol, post)}
    await eventually(lambda: not of_the_group & fga.tuples, "the group's membership and share deleted")
    assert (await app_client.patch(url, json={"content": "x"}, headers=keys.headers("bob"))).status_code == 403
    assert (await app_client.delete(f"{url}/editors/{carol}", headers=keys.headers("alice"))).status_code == 204
    await eventually(lambda: shared_with_carol(carol, post) not in fga.tuples, "carol's share deleted")
    assert (await app_client.patch(url, json={"content": "x"}, headers=keys.headers("carol"))).status_code == 403


def shared_with_carol(carol: Any, post: dict[str, Any]) -> TupleKey:
    return (f"user:{carol}", "editor", f"post:{post['id']}")


# endregion


async def test_the_post_owner_moderates_through_openfga(app_client, keys, fga):
    post = await create_post(app_client, keys)
    comment = await app_client.post(
        "/v1/comments", json={"post_id": post["id"], "content": "spam"}, headers=keys.headers("bob")
    )
    await eventually(lambda: owner(keys, "alice", "post", post["id"]) in fga.tuples, "the post's owner tuple")
    url = f"/v1/comments/{comment.json()['id']}"
    assert (await app_client.patch(url, json={"content": "x"}, headers=keys.headers("alice"))).status_code == 403
    assert (await app_client.delete(url, headers=keys.headers("carol"))).status_code == 403
    assert (await app_client.delete(url, headers=keys.headers("alice"))).status_code == 204
