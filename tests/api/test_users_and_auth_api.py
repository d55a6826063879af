from __future__ import annotations

import uuid

import pytest

from tests.support.problems import assert_problem


async def test_me_creates_the_user_from_the_token(client, keys):
    response = await client.get("/v1/users/me", headers=keys.headers("dora", full_name_ignored="x"))
    assert response.status_code == 200
    user = response.json()
    assert set(user) == {"id", "username", "full_name", "email", "is_active", "created_at", "updated_at"}
    assert (user["id"], user["username"], user["full_name"], user["email"], user["is_active"]) == (
        str(keys.user_id("dora")),
        "dora",
        "Dora",
        "dora@example.test",
        True,
    )
    again = await client.get("/v1/users/me", headers=keys.headers("dora"))
    assert again.json() == user

    by_id = await client.get(f"/v1/users/{user['id']}", headers=keys.headers("someone"))
    assert by_id.json() == user


# region: blog
async def test_first_write_creates_the_user(client, keys):
    await client.post("/v1/posts", json={"content": "hi"}, headers=keys.headers("erin"))
    response = await client.get(f"/v1/users/{keys.user_id('erin')}", headers=keys.headers("other"))
    assert response.status_code == 200
    assert response.json()["username"] == "erin"


# endregion


async def test_unknown_user_404_malformed_id_400(client, keys):
    assert_problem(await client.get(f"/v1/users/{uuid.uuid4()}", headers=keys.headers()), 404)
    assert_problem(await client.get("/v1/users/42", headers=keys.headers()), 400)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "malformed"),
        ({"Authorization": "Bearer"}, "malformed"),
        ({"Authorization": "Bearer not.a.jwt"}, "malformed"),
    ],
)
async def test_every_v1_route_needs_a_bearer_token(client, headers, reason):
    for method, url in [
        ("GET", "/v1/users/me"),
        ("GET", f"/v1/users/{uuid.uuid4()}"),
        # region: blog
        ("GET", "/v1/posts"),
        ("POST", "/v1/posts"),
        ("GET", f"/v1/posts/{uuid.uuid4()}"),
        ("PATCH", f"/v1/posts/{uuid.uuid4()}"),
        ("DELETE", f"/v1/posts/{uuid.uuid4()}"),
        ("GET", "/v1/comments"),
        ("POST", "/v1/comments"),
        ("GET", f"/v1/comments/{uuid.uuid4()}"),
        ("PATCH", f"/v1/comments/{uuid.uuid4()}"),
        ("DELETE", f"/v1/comments/{uuid.uuid4()}"),
        # endregion
    ]:
        response = await client.request(
            method, url, headers=headers, json={"content": "x"} if method in {"POST", "PATCH"} else None
        )
        problem = assert_problem(response, 401)
        assert reason in problem["detail"]
        assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp_in": -120}, "expired"),
        ({"iss": "https://evil.test/realms/test"}, "issuer"),
        ({"typ": "Refresh"}, "Refresh"),
    ],
)
async def test_untrusted_tokens_are_401_with_the_reason(client, keys, claims, reason):
    response = await client.get("/v1/users/me", headers=keys.headers("alice", **claims))
    problem = assert_problem(response, 401)
    assert reason in problem["detail"]
    assert reason in response.headers["www-authenticate"]
    assert "eyJ" not in response.text, "the token is never echoed"


async def test_a_token_signed_by_another_key_is_refused(client):
    from tests.support.tokens import TestKeys

    stranger = TestKeys()
    response = await client.get("/v1/users/me", headers=stranger.headers())
    assert "unknown key" in assert_problem(response, 401)["detail"]


async def test_a_tampered_token_is_refused(client, keys):
    import base64
    import json

    header, payload, signature = keys.mint("alice").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["realm_access"] = {"roles": ["admin"]}
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = await client.get("/v1/users/me", headers={"Authorization": f"Bearer {header}.{forged}.{signature}"})
    assert "signature" in assert_problem(response, 401)["detail"]
