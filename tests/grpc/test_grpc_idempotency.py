"""The `idempotency-key` metadata on CreatePost and CreateComment: HTTP's Idempotency-Key in gRPC's
terms (tests/api/test_idempotency_api.py), on both engines."""

from __future__ import annotations

import grpc

from app.grpc.gen.blog.v1 import comments_pb2, posts_pb2
from tests.support.grpc_client import fails

Code = grpc.StatusCode


def keyed(rpc, key: str, user: str = "alice"):
    return (*rpc.auth(user), ("idempotency-key", key))


async def test_a_retried_create_post_answers_the_same_and_creates_once(rpc):
    request = posts_pb2.CreatePostRequest(content="hello")
    first = await rpc.posts.CreatePost(request, metadata=keyed(rpc, "k-1"))
    again = await rpc.posts.CreatePost(request, metadata=keyed(rpc, "k-1"))

    assert again.SerializeToString() == first.SerializeToString()
    page = await rpc.posts.ListPosts(posts_pb2.ListPostsRequest(), metadata=rpc.auth())
    assert page.total == 1
    other = await rpc.posts.CreatePost(request, metadata=keyed(rpc, "k-1", "bob"))
    assert other.post.id != first.post.id, "keys are the caller's own"


async def test_another_request_with_the_key_is_invalid_and_a_bad_key_too(rpc):
    await rpc.posts.CreatePost(posts_pb2.CreatePostRequest(content="hello"), metadata=keyed(rpc, "k-1"))

    await fails(
        rpc.posts.CreatePost(posts_pb2.CreatePostRequest(content="other"), metadata=keyed(rpc, "k-1")),
        Code.INVALID_ARGUMENT,
    )
    failure = await fails(
        rpc.posts.CreatePost(posts_pb2.CreatePostRequest(content="x"), metadata=keyed(rpc, "x" * 256)),
        Code.INVALID_ARGUMENT,
    )
    assert "Idempotency-Key" in failure.message
    page = await rpc.posts.ListPosts(posts_pb2.ListPostsRequest(), metadata=rpc.auth())
    assert page.total == 1


async def test_a_retried_create_comment_answers_the_same_and_creates_once(rpc):
    post = (await rpc.posts.CreatePost(posts_pb2.CreatePostRequest(content="post"), metadata=rpc.auth())).post
    request = comments_pb2.CreateCommentRequest(post_id=post.id, content="hi")

    first = await rpc.comments.CreateComment(request, metadata=keyed(rpc, "c-1"))
    again = await rpc.comments.CreateComment(request, metadata=keyed(rpc, "c-1"))

    assert again.SerializeToString() == first.SerializeToString()
    page = await rpc.comments.ListComments(comments_pb2.ListCommentsRequest(), metadata=rpc.auth())
    assert page.total == 1
