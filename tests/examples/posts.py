"""A post for a test that needs one (see tests/examples/__init__.py)."""

from __future__ import annotations

from typing import Any

from domain.model import Principal
from domain.posts import Post
from domain.use_cases.posts import CreatePost
from tests.fakes import principal


async def new_post(use_cases: Any, owner: Principal = principal("alice"), content: str = "hello") -> Post:
    return await use_cases[CreatePost](owner, content)


async def create_post(client: Any, keys: Any, user: str = "alice", content: str = "hello") -> Any:
    response = await client.post("/v1/posts", json={"content": content}, headers=keys.headers(user))
    assert response.status_code == 201, response.text
    return response
