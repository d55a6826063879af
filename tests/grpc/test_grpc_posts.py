"""PostService over a real gRPC connection: every RPC and every status it can answer, on both engines.
The same cases as tests/api/test_posts_api.py, in gRPC's terms."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from app.grpc.gen.blog.v1 import comments_pb2, listing_pb2, posts_pb2
from tests.support.grpc_client import fails

Code = grpc.StatusCode
ADMIN = ("admin",)


async def create(rpc, content="hello", user="alice") -> posts_pb2.Post:
    response = await rpc.posts.CreatePost(posts_pb2.CreatePostRequest(content=content), metadata=rpc.auth(user))
    return response.post


async def get(rpc, post_id: str, user="alice") -> posts_pb2.Post:
    return (await rpc.posts.GetPost(posts_pb2.GetPostRequest(post_id=post_id), metadata=rpc.auth(user))).post


async def listing(rpc, **fields) -> posts_pb2.ListPostsResponse:
    return await rpc.posts.ListPosts(posts_pb2.ListPostsRequest(**fields), metadata=rpc.auth())


def update(rpc, post_id: str, content: str, user="alice", roles=(), **fields):
    request = posts_pb2.UpdatePostRequest(post_id=post_id, content=content, **fields)
    return rpc.posts.UpdatePost(request, metadata=rpc.auth(user, roles))


def delete(rpc, post_id: str, user="alice", roles=()):
    return rpc.posts.DeletePost(posts_pb2.DeletePostRequest(post_id=post_id), metadata=rpc.auth(user, roles))


async def test_create_then_get_returns_the_same_post(rpc, keys):
    post = await create(rpc, "  hello world  ")
    assert post.content == "hello world"
    assert post.version == 1
    assert post.owner_id == str(keys.user_id("alice"))
    uuid.UUID(post.id)
    created = post.created_at.ToDatetime(tzinfo=UTC)
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=1)
    assert post.updated_at == post.created_at

    assert await get(rpc, post.id, "bob") == post


@pytest.mark.parametrize("content", ["", "   ", "x" * 10_001, "nul\x00inside"])
async def test_bad_content_is_invalid_argument_naming_the_field_and_creates_nothing(rpc, content):
    failure = await fails(create(rpc, content), Code.INVALID_ARGUMENT)
    assert set(failure.field_violations()) == {"content"}
    assert failure.message.startswith("content: ")
    assert (await listing(rpc)).total == 0


async def test_unknown_post_is_not_found_and_a_malformed_id_is_invalid_argument(rpc):
    unknown = str(uuid.uuid4())
    assert unknown in (await fails(get(rpc, unknown), Code.NOT_FOUND)).message
    await fails(update(rpc, unknown, "x"), Code.NOT_FOUND)
    await fails(delete(rpc, unknown), Code.NOT_FOUND)
    for call in (get(rpc, "not-a-uuid"), update(rpc, "", "x"), delete(rpc, "42")):
        assert (await fails(call, Code.INVALID_ARGUMENT)).field_violations() == {"post_id": "must be a UUID"}


async def test_update_bumps_the_version_and_a_stale_expected_version_is_failed_precondition(rpc):
    post = await create(rpc)
    updated = (await update(rpc, post.id, "v2", expected_version=1)).post
    assert (updated.content, updated.version) == ("v2", 2)
    assert updated.updated_at.ToDatetime() >= updated.created_at.ToDatetime()
    assert (await update(rpc, post.id, "v3")).post.version == 3  # unset: any version

    failure = await fails(update(rpc, post.id, "lost", expected_version=2), Code.FAILED_PRECONDITION)
    assert "version 3" in failure.message
    assert (await get(rpc, post.id)).content == "v3"


async def test_only_the_owner_or_an_admin_may_update_or_delete(rpc):
    post = await create(rpc)

    await fails(update(rpc, post.id, "mine now", "bob"), Code.PERMISSION_DENIED)
    await fails(delete(rpc, post.id, "bob"), Code.PERMISSION_DENIED)
    assert (await get(rpc, post.id)).version == 1

    assert (await update(rpc, post.id, "moderated", "root", ADMIN)).post.content == "moderated"
    await delete(rpc, post.id, "root", ADMIN)
    await fails(get(rpc, post.id), Code.NOT_FOUND)


async def test_delete_by_the_owner_takes_the_comments(rpc):
    post = await create(rpc)
    comment = await rpc.comments.CreateComment(
        comments_pb2.CreateCommentRequest(post_id=post.id, content="hi"), metadata=rpc.auth("bob")
    )
    assert await delete(rpc, post.id) == posts_pb2.DeletePostResponse()
    await fails(
        rpc.comments.GetComment(comments_pb2.GetCommentRequest(comment_id=comment.comment.id), metadata=rpc.auth()),
        Code.NOT_FOUND,
    )


def at(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


async def test_listing_filters_order_paging_and_total(rpc, keys):
    first = await create(rpc, "first", "alice")
    second = await create(rpc, "second", "bob")
    third = await create(rpc, "third", "alice")
    await update(rpc, first.id, "first, edited")

    everything = await listing(rpc)
    assert [p.content for p in everything.items] == ["first, edited", "third", "second"]  # updated_at desc
    assert (everything.total, everything.limit, everything.offset) == (3, 20, 0)

    by_creation = await listing(rpc, sort_by=listing_pb2.SORT_FIELD_CREATED_AT, order=listing_pb2.SORT_ORDER_ASC)
    assert [p.id for p in by_creation.items] == [first.id, second.id, third.id]

    alices = await listing(rpc, owner_id=str(keys.user_id("alice")))
    assert {p.id for p in alices.items} == {first.id, third.id}
    assert alices.total == 2

    page = await listing(rpc, limit=1, offset=1, sort_by=listing_pb2.SORT_FIELD_CREATED_AT)
    assert [p.id for p in page.items] == [second.id]
    assert (page.total, page.limit, page.offset) == (3, 1, 1)

    by_cursor = await listing(rpc, limit=2, sort_by=listing_pb2.SORT_FIELD_CREATED_AT)
    assert [p.id for p in by_cursor.items] == [third.id, second.id]
    rest = await listing(rpc, limit=2, sort_by=listing_pb2.SORT_FIELD_CREATED_AT, cursor=by_cursor.next_cursor)
    assert [p.id for p in rest.items] == [first.id]
    assert not rest.HasField("next_cursor")  # the last page
    mixed = listing(rpc, offset=0, cursor=by_cursor.next_cursor, sort_by=listing_pb2.SORT_FIELD_CREATED_AT)
    assert list((await fails(mixed, Code.INVALID_ARGUMENT)).field_violations()) == ["cursor"]

    created = second.created_at.ToDatetime(tzinfo=UTC)
    window = await listing(rpc, from_date=at(created), to_date=at(created))
    assert [p.id for p in window.items] == [second.id]
    assert window.total == 1
    assert (await listing(rpc, from_date=at(created + timedelta(days=1)))).total == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 10_001}, "offset"),
        ({"cursor": "not a cursor"}, "cursor"),
        ({"owner_id": "nobody"}, "owner_id"),
        ({"sort_by": 9}, "sort_by"),
        ({"order": 7}, "order"),
        ({"from_date": Timestamp(seconds=2_000_000_000), "to_date": Timestamp(seconds=1_000_000_000)}, "from_date"),
        ({"to_date": Timestamp(seconds=400_000_000_000)}, "to_date"),
    ],
)
async def test_bad_listing_values_are_invalid_argument_naming_the_field(rpc, fields, field):
    failure = await fails(listing(rpc, **fields), Code.INVALID_ARGUMENT)
    assert list(failure.field_violations()) == [field]


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_an_update_cut_by_the_database_deadline_is_unavailable_and_changes_nothing(serve, db_url):
    """Another writer holds the row past DB_REQUEST_TIMEOUT_MS: the same 503 as over HTTP, in gRPC's
    terms (UNAVAILABLE with a retry delay); the server's own statement timeout is far above it."""
    async with serve(DB_REQUEST_TIMEOUT_MS="300", DB_STATEMENT_TIMEOUT_MS="30000") as rpc:
        post = await create(rpc, "original")
        other = await asyncpg.connect(db_url)
        try:
            async with other.transaction():
                await other.execute("SELECT 1 FROM post WHERE id = $1 FOR UPDATE", uuid.UUID(post.id))
                failure = await fails(update(rpc, post.id, "changed"), Code.UNAVAILABLE)
                assert "database" in failure.message
                assert failure.retry_seconds() is not None
        finally:
            await other.close()
        assert (await get(rpc, post.id)).content == "original"
        assert (await update(rpc, post.id, "changed")).post.version == 2
