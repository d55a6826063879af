"""The Keycloak user-sync webhook over HTTP, on both engines: signature, operations, replays, order."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lagom import Container
from litestar.testing import AsyncTestClient

from app.main import create_app
from tests.support.keycloak_events import SECRET, admin_event, encode, group_event, sign
from tests.support.problems import assert_problem

URL = "/v1/authentication/webhook/events-synchronization"
KC_ID = uuid.UUID("3e1f5a7c-9b2d-4f6e-8a0c-1d3b5f7a9c2e")


@pytest.fixture
async def hook(engine: Any, make_container: Callable[..., Container]) -> AsyncIterator[AsyncTestClient[Any]]:
    """The app with KEYCLOAK_WEBHOOK_SECRET set."""
    async with AsyncTestClient(app=create_app(make_container(KEYCLOAK_WEBHOOK_SECRET=SECRET))) as client:
        yield client


async def deliver(client, event: dict[str, Any] | bytes, signature: str | None = "sign") -> Any:
    body = event if isinstance(event, bytes) else encode(event)
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Keycloak-Signature"] = sign(body)
    elif signature is not None:
        headers["X-Keycloak-Signature"] = signature
    return await client.post(URL, content=body, headers=headers)


async def user(client, keys, user_id: uuid.UUID = KC_ID) -> dict[str, Any] | None:
    response = await client.get(f"/v1/users/{user_id}", headers=keys.headers("reader"))
    return response.json() if response.status_code == 200 else None


async def test_without_a_secret_the_webhook_is_unavailable(client, keys):
    response = await deliver(client, admin_event("CREATE", KC_ID, 1))
    assert "KEYCLOAK_WEBHOOK_SECRET" in assert_problem(response, 503)["detail"]
    assert await user(client, keys) is None


@pytest.mark.parametrize(
    ("signature", "reason"),
    [(None, "missing"), ("0" * 64, "bad"), (sign(b"something else"), "bad"), ("not hex at all", "bad")],
)
async def test_a_missing_or_wrong_signature_is_401_and_changes_nothing(hook, keys, signature, reason):
    response = await deliver(hook, admin_event("CREATE", KC_ID, 1), signature)
    assert reason in assert_problem(response, 401)["detail"]
    assert "www-authenticate" not in response.headers, "not a bearer-token endpoint"
    assert await user(hook, keys) is None


async def test_no_bearer_token_is_needed(hook):
    response = await deliver(hook, admin_event("CREATE", KC_ID, 1))
    assert response.status_code == 204, response.text
    assert response.content == b""


@pytest.mark.parametrize("phase_two", [False, True], ids=["contract shape", "phase two shape"])
async def test_create_update_delete(hook, keys, phase_two):
    assert (await deliver(hook, admin_event("CREATE", KC_ID, 1000, phase_two=phase_two))).status_code == 204
    created = await user(hook, keys)
    assert created is not None
    assert {k: created[k] for k in ("id", "username", "full_name", "email", "is_active")} == {
        "id": str(KC_ID),
        "username": "alice",
        "full_name": "Alice Anderson",
        "email": "alice@example.com",
        "is_active": True,
    }

    update = admin_event("UPDATE", KC_ID, 2000, username="alice.a", last_name="Archer", phase_two=phase_two)
    assert (await deliver(hook, update)).status_code == 204
    updated = await user(hook, keys)
    assert (updated["username"], updated["full_name"], updated["created_at"]) == (
        "alice.a",
        "Alice Archer",
        created["created_at"],
    )

    assert (await deliver(hook, admin_event("DELETE", KC_ID, 3000, phase_two=phase_two))).status_code == 204
    deleted = await user(hook, keys)
    assert (deleted["is_active"], deleted["username"]) == (False, "alice.a")


# region: blog
async def test_a_deleted_users_posts_stay_and_they_can_no_longer_write(hook, keys):
    token = keys.headers("alice", sub=str(KC_ID))  # Keycloak's subject is the user id
    post = (await hook.post("/v1/posts", json={"content": "mine"}, headers=token)).json()
    assert post["owner_id"] == str(KC_ID)

    assert (await deliver(hook, admin_event("DELETE", KC_ID, 5))).status_code == 204
    assert (await hook.get(f"/v1/posts/{post['id']}", headers=token)).status_code == 200
    assert_problem(await hook.post("/v1/posts", json={"content": "again"}, headers=token), 403)


# endregion


async def test_group_and_membership_events_are_accepted(hook, keys):
    """They keep the groups posts are shared with in step (tests/api/test_sharing_api.py); a service
    without sharing ignores them. Either way Keycloak gets its 204 and retries nothing."""
    group = uuid.uuid4()
    for event in (
        group_event("CREATE", group, 1, name="staff"),
        group_event("CREATE", group, 2, user_id=KC_ID, name="staff"),
        group_event("DELETE", group, 3),
    ):
        assert (await deliver(hook, event)).status_code == 204
    assert await user(hook, keys) is None, "a membership event makes no user record"


async def test_a_replayed_event_changes_nothing(hook, keys):
    event = admin_event("UPDATE", KC_ID, 7)
    assert (await deliver(hook, event)).status_code == 204
    first = await user(hook, keys)
    assert (await deliver(hook, event)).status_code == 204
    assert await user(hook, keys) == first


async def test_out_of_order_delivery_keeps_the_newest(hook, keys):
    await deliver(hook, admin_event("UPDATE", KC_ID, 200, username="newest"))
    await deliver(hook, admin_event("CREATE", KC_ID, 100, username="oldest"))
    assert (await user(hook, keys))["username"] == "newest"

    other = uuid.uuid4()
    await deliver(hook, admin_event("DELETE", other, 300))
    await deliver(hook, admin_event("CREATE", other, 100))
    assert (await user(hook, keys, other))["is_active"] is False, "a late CREATE cannot undo a DELETE"


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(admin_event("CREATE", KC_ID, 1, resource_type="CLIENT"), id="client created"),
        pytest.param(admin_event("CREATE", KC_ID, 1, resource_type="REALM_ROLE_MAPPING", phase_two=True), id="role"),
        pytest.param(admin_event("ACTION", KC_ID, 1), id="ACTION"),
        pytest.param({"type": "access.LOGIN", "realmId": "demo", "time": 1}, id="login"),
    ],
)
async def test_other_events_are_ignored_with_204(hook, keys, event):
    assert (await deliver(hook, event)).status_code == 204
    assert await user(hook, keys) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (encode({**admin_event("CREATE", KC_ID, 1), "time": "noon"}), "time"),
        (encode({**admin_event("CREATE", KC_ID, 1), "representation": "{"}), "representation"),
        (encode({"resourceType": "USER", "operationType": "CREATE", "time": 1}), "representation"),
        (encode(admin_event("CREATE", KC_ID, 1, username="")), "username"),
    ],
)
async def test_a_malformed_body_is_400_with_the_reason(hook, keys, body, field):
    problem = assert_problem(await deliver(hook, body), 400)
    assert problem["errors"][0]["field"].endswith(field)
    assert field in problem["detail"]
    assert await user(hook, keys) is None


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.dictionaries(
        st.sampled_from(["resourceType", "operationType", "type", "representation", "resourcePath", "time"]),
        st.none() | st.integers() | st.text(max_size=30) | st.just("USER") | st.just(json.dumps({"username": 5})),
        max_size=6,
    )
)
async def test_signed_garbage_is_204_or_400_never_500(hook, fields):
    response = await deliver(hook, fields)
    assert response.status_code in {204, 400}, response.text


def test_the_route_is_marked_for_the_maintenance_exemption(make_container):
    app = create_app(make_container())
    handler = app.get_handler_index_by_name("keycloak:events")
    assert handler is not None
    assert handler["handler"].opt.get("maintenance_exempt") is True
