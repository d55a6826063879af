"""CommentService and UserService over a real gRPC connection: every RPC and the statuses each can
answer, on both engines (the HTTP twins: tests/api/test_comments_api.py, test_users_and_auth_api.py)."""

from __future__ import annotations

import uuid

import grpc

from app.grpc.gen.blog.v1 import comments_pb2, listing_pb2, posts_pb2, users_pb2
from tests.support.grpc_client import fails

Code = grpc.StatusCode


async def new_post(rpc, user="alice") -> posts_pb2.Post:
    return (await rpc.posts.CreatePost(posts_pb2.CreatePostRequest(content="a post"), metadata=rpc.auth(user))).post


def comment_on(rpc, post_id: str, content="nice", user="bob"):
    request = comments_pb2.CreateCommentRequest(post_id=post_id, content=content)
    return rpc.comments.CreateComment(request, metadata=rpc.auth(user))


async def test_comment_lifecycle(rpc, keys):
    post = await new_post(rpc)
    comment = (await comment_on(rpc, post.id)).comment
    assert (comment.post_id, comment.owner_id, comment.content, comment.version) == (
        post.id,
        str(keys.user_id("bob")),
        "nice",
        1,
    )

    fetched = await rpc.comments.GetComment(comments_pb2.GetCommentRequest(comment_id=comment.id), metadata=rpc.auth())
    assert fetched.comment == comment

    def update(content, user="bob", **fields):
        request = comments_pb2.UpdateCommentRequest(comment_id=comment.id, content=content, **fields)
        return rpc.comments.UpdateComment(request, metadata=rpc.auth(user))

    assert (await update("nicer", expected_version=1)).comment.version == 2
    await fails(update("stale", expected_version=1), Code.FAILED_PRECONDITION)
    await fails(update("hijack", "mallory"), Code.PERMISSION_DENIED)
    await fails(update("   "), Code.INVALID_ARGUMENT)

    def delete(user):
        request = comments_pb2.DeleteCommentRequest(comment_id=comment.id)
        return rpc.comments.DeleteComment(request, metadata=rpc.auth(user))

    await fails(delete("mallory"), Code.PERMISSION_DENIED)
    assert await delete("bob") == comments_pb2.DeleteCommentResponse()
    await fails(delete("bob"), Code.NOT_FOUND)


async def test_a_comment_on_an_unknown_post_is_not_found_and_bad_ids_are_invalid_argument(rpc):
    await fails(comment_on(rpc, str(uuid.uuid4())), Code.NOT_FOUND)
    assert (await fails(comment_on(rpc, "nope"), Code.INVALID_ARGUMENT)).field_violations() == {
        "post_id": "must be a UUID"
    }
    failure = await fails(
        rpc.comments.GetComment(comments_pb2.GetCommentRequest(comment_id="x"), metadata=rpc.auth()),
        Code.INVALID_ARGUMENT,
    )
    assert list(failure.field_violations()) == ["comment_id"]
    await fails(
        rpc.comments.GetComment(comments_pb2.GetCommentRequest(comment_id=str(uuid.uuid4())), metadata=rpc.auth()),
        Code.NOT_FOUND,
    )


async def test_comment_listing_by_post_and_owner(rpc, keys):
    one, two = await new_post(rpc), await new_post(rpc)
    first = (await comment_on(rpc, one.id, "first", "bob")).comment
    second = (await comment_on(rpc, one.id, "second", "carol")).comment
    await comment_on(rpc, two.id, "elsewhere", "bob")

    def listing(**fields):
        return rpc.comments.ListComments(comments_pb2.ListCommentsRequest(**fields), metadata=rpc.auth())

    on_one = await listing(post_id=one.id, sort_by=listing_pb2.SORT_FIELD_CREATED_AT, order=listing_pb2.SORT_ORDER_ASC)
    assert [c.id for c in on_one.items] == [first.id, second.id]
    assert on_one.total == 2
    by_bob = await listing(owner_id=str(keys.user_id("bob")))
    assert by_bob.total == 2
    assert {c.content for c in by_bob.items} == {"first", "elsewhere"}
    both = await listing(post_id=one.id, owner_id=str(keys.user_id("carol")), limit=1)
    assert ([c.id for c in both.items], both.total, both.limit) == ([second.id], 1, 1)
    assert (await listing()).total == 3
    by_creation = {"post_id": one.id, "sort_by": listing_pb2.SORT_FIELD_CREATED_AT, "order": listing_pb2.SORT_ORDER_ASC}
    page = await listing(**by_creation, limit=1)
    rest = await listing(**by_creation, limit=1, cursor=page.next_cursor)
    assert ([c.id for c in page.items], [c.id for c in rest.items]) == ([first.id], [second.id])
    assert not rest.HasField("next_cursor")
    elsewhere = listing(post_id=two.id, cursor=page.next_cursor)  # another filter: not this listing's cursor
    assert list((await fails(elsewhere, Code.INVALID_ARGUMENT)).field_violations()) == ["cursor"]

    assert list((await fails(listing(post_id="nope"), Code.INVALID_ARGUMENT)).field_violations()) == ["post_id"]
    assert list((await fails(listing(limit=0), Code.INVALID_ARGUMENT)).field_violations()) == ["limit"]


async def test_get_current_user_creates_the_caller_from_the_token(rpc, keys):
    me = (await rpc.users.GetCurrentUser(users_pb2.GetCurrentUserRequest(), metadata=rpc.auth("alice"))).user
    assert me.id == str(keys.user_id("alice"))
    assert (me.username, me.full_name, me.email, me.is_active) == ("alice", "Alice", "alice@example.test", True)
    assert me.created_at == me.updated_at

    again = (await rpc.users.GetUser(users_pb2.GetUserRequest(user_id=me.id), metadata=rpc.auth("bob"))).user
    assert again == me


async def test_a_user_without_name_or_email_has_them_unset(rpc):
    token_claims = {"name": None, "email": None}
    me = (
        await rpc.users.GetCurrentUser(users_pb2.GetCurrentUserRequest(), metadata=rpc.auth("dave", **token_claims))
    ).user
    assert not me.HasField("full_name")
    assert not me.HasField("email")


async def test_an_unknown_user_is_not_found_and_a_malformed_id_invalid_argument(rpc):
    def get(user_id):
        return rpc.users.GetUser(users_pb2.GetUserRequest(user_id=user_id), metadata=rpc.auth())

    await fails(get(str(uuid.uuid4())), Code.NOT_FOUND)
    assert (await fails(get("me"), Code.INVALID_ARGUMENT)).field_violations() == {"user_id": "must be a UUID"}
