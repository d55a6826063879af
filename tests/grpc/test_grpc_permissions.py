"""Who may change what, over gRPC, with each authorizer the service has: the built-in one (from the
rows) and each other one (against its stand-in server). The cases of the HTTP API's permission
tests; the answers must not depend on the delivery mechanism."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest

from app.grpc.gen.blog.v1 import comments_pb2, posts_pb2
from tests.support.fake_openfga import FakeOpenFGA
from tests.support.grpc_client import GrpcClient, fails
from tests.support.openfga import openfga_env

Code = grpc.StatusCode
ADMIN = ("admin",)


AUTHORIZERS = [
    "builtin",
    # region: openfga
    "openfga",
    # endregion
]


# region: openfga
@pytest.fixture
def fga() -> Iterator[FakeOpenFGA]:
    with FakeOpenFGA() as server:
        yield server


# endregion
@pytest.fixture(params=AUTHORIZERS)
async def authorized(request, serve) -> AsyncIterator[tuple[GrpcClient, Any]]:
    """A gRPC client of a server with each authorizer, and the authorizer's stand-in server (None: built in)."""
    if request.param == "builtin":
        async with serve() as rpc:
            yield rpc, None
        return
    # region: openfga
    with FakeOpenFGA() as fga:
        settings = openfga_env(fga, OPENFGA_TIMEOUT_MS="300", OUTBOX_POLL_SECONDS="0.2", OUTBOX_LEASE_SECONDS="5")
        async with serve(**settings) as rpc:
            yield rpc, fga
    # endregion


async def create_post(rpc: GrpcClient, user: str = "alice") -> posts_pb2.Post:
    return (await rpc.posts.CreatePost(posts_pb2.CreatePostRequest(content="hello"), metadata=rpc.auth(user))).post


def update_post(rpc: GrpcClient, post_id: str, user: str, roles: tuple[str, ...] = ()) -> Any:
    request = posts_pb2.UpdatePostRequest(post_id=post_id, content=f"by {user}")
    return rpc.posts.UpdatePost(request, metadata=rpc.auth(user, roles))


def delete_post(rpc: GrpcClient, post_id: str, user: str, roles: tuple[str, ...] = ()) -> Any:
    return rpc.posts.DeletePost(posts_pb2.DeletePostRequest(post_id=post_id), metadata=rpc.auth(user, roles))


async def stored_post(rpc: GrpcClient, post_id: str) -> posts_pb2.Post:
    return (await rpc.posts.GetPost(posts_pb2.GetPostRequest(post_id=post_id), metadata=rpc.auth())).post


async def test_a_stranger_is_denied_and_nothing_changes(authorized):
    rpc, _ = authorized
    post = await create_post(rpc)
    failure = await fails(update_post(rpc, post.id, "mallory"), Code.PERMISSION_DENIED)
    assert failure.message == "only the post's owner, its editors or an administrator may update it"
    await fails(delete_post(rpc, post.id, "mallory"), Code.PERMISSION_DENIED)
    assert (await stored_post(rpc, post.id)).version == 1


async def test_the_owner_may_update_and_delete(authorized):
    rpc, _ = authorized
    post = await create_post(rpc)
    assert (await update_post(rpc, post.id, "alice")).post.version == 2
    await delete_post(rpc, post.id, "alice")
    await fails(rpc.posts.GetPost(posts_pb2.GetPostRequest(post_id=post.id), metadata=rpc.auth()), Code.NOT_FOUND)


async def test_an_admin_may_update_and_delete_without_asking_the_authorizer(authorized):
    rpc, stand_in = authorized
    post = await create_post(rpc)
    checks_before = stand_in.check_count if stand_in else 0
    assert (await update_post(rpc, post.id, "root", ADMIN)).post.content == "by root"
    await delete_post(rpc, post.id, "root", ADMIN)
    if stand_in:
        assert stand_in.check_count == checks_before


async def test_comments_follow_the_same_rule(authorized):
    rpc, _ = authorized
    post = await create_post(rpc)
    comment = (
        await rpc.comments.CreateComment(
            comments_pb2.CreateCommentRequest(post_id=post.id, content="nice"), metadata=rpc.auth("bob")
        )
    ).comment

    def update(user, roles=()):
        request = comments_pb2.UpdateCommentRequest(comment_id=comment.id, content=f"by {user}")
        return rpc.comments.UpdateComment(request, metadata=rpc.auth(user, roles))

    def delete(user, roles=()):
        request = comments_pb2.DeleteCommentRequest(comment_id=comment.id)
        return rpc.comments.DeleteComment(request, metadata=rpc.auth(user, roles))

    await fails(update("mallory"), Code.PERMISSION_DENIED)
    await fails(delete("mallory"), Code.PERMISSION_DENIED)
    assert (await update("bob")).comment.version == 2
    assert (await update("root", ADMIN)).comment.version == 3
    await delete("root", ADMIN)


# region: openfga
async def test_an_editor_granted_in_openfga_may_update_but_not_delete(serve, fga, keys):
    async with serve(**openfga_env(fga, OPENFGA_TIMEOUT_MS="300")) as rpc:
        post = await create_post(rpc)
        fga.add_tuples((f"user:{keys.user_id('bob')}", "editor", f"post:{post.id}"))
        assert (await update_post(rpc, post.id, "bob")).post.content == "by bob"
        await fails(delete_post(rpc, post.id, "bob"), Code.PERMISSION_DENIED)


async def test_openfga_down_is_unavailable_and_changes_nothing(serve, fga):
    async with serve(**openfga_env(fga, OPENFGA_TIMEOUT_MS="300")) as rpc:
        post = await create_post(rpc)
        fga.stop()
        failure = await fails(update_post(rpc, post.id, "alice"), Code.UNAVAILABLE)
        assert "permission service" in failure.message
        assert failure.retry_seconds() == 5
        await fails(delete_post(rpc, post.id, "alice"), Code.UNAVAILABLE)
        assert (await stored_post(rpc, post.id)).content == "hello"


# endregion
