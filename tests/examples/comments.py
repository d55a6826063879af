"""A comment for a test that needs one, on a post of its own unless given one (see tests/examples/__init__.py)."""

from __future__ import annotations

import uuid
from typing import Any

from domain.comments import Comment
from domain.model import Principal
from domain.use_cases.comments import CreateComment
from tests.examples.posts import create_post, new_post
from tests.fakes import principal


async def new_comment(
    use_cases: Any, owner: Principal = principal("alice"), post_id: uuid.UUID | None = None, content: str = "nice"
) -> Comment:
    if post_id is None:
        post_id = (await new_post(use_cases, owner)).id
    return await use_cases[CreateComment](owner, post_id, content)


async def create_comment(
    client: Any, keys: Any, user: str = "alice", post_id: str | None = None, content: str = "nice"
) -> Any:
    if post_id is None:
        post_id = (await create_post(client, keys, user)).json()["id"]
    body = {"post_id": post_id, "content": content}
    response = await client.post("/v1/comments", json=body, headers=keys.headers(user))
    assert response.status_code == 201, response.text
    return response
