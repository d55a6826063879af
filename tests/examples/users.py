"""A user for a test that needs one: the caller's record, as its first request makes it."""

from __future__ import annotations

from typing import Any

from domain.model import Principal
from domain.use_cases.users import GetCurrentUser
from domain.users import User
from tests.fakes import principal


async def new_user(use_cases: Any, owner: Principal = principal("alice")) -> User:
    return await use_cases[GetCurrentUser](owner)


async def create_user(client: Any, keys: Any, user: str = "alice") -> Any:
    response = await client.get("/v1/users/me", headers=keys.headers(user))
    assert response.status_code == 200, response.text
    return response
