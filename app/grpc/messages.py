"""Message conversion: protobuf requests into the use cases' arguments, entities into messages.

The gRPC twin of app/http/schemas.py and the listing parameters of app/http/controllers/listing.py:
the same rules, checked on typed fields instead of JSON and query strings. A value the rules refuse
raises ``InvalidInput`` naming the request's field, which becomes INVALID_ARGUMENT with that field
in ``google.rpc.BadRequest`` (app/grpc/errors.py). Unset proto3 ``optional`` fields take the HTTP
defaults; an explicit value out of range (``limit: 0``) is refused, as ``?limit=0`` is over HTTP.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from app.grpc.gen.blog.v1 import comments_pb2, listing_pb2, posts_pb2, users_pb2
from domain.comments import Comment
from domain.errors import InvalidInput
from domain.listing import ListQuery, SortField, SortOrder
from domain.posts import Post
from domain.users import User

MAX_LIMIT = 100  # the HTTP listings' bound (app/http/controllers/listing.py)
_DEFAULT = ListQuery()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SORT_FIELDS: dict[int, SortField] = {
    listing_pb2.SORT_FIELD_UNSPECIFIED: _DEFAULT.sort_by,
    listing_pb2.SORT_FIELD_CREATED_AT: SortField.created_at,
    listing_pb2.SORT_FIELD_UPDATED_AT: SortField.updated_at,
}
_SORT_ORDERS: dict[int, SortOrder] = {
    listing_pb2.SORT_ORDER_UNSPECIFIED: _DEFAULT.order,
    listing_pb2.SORT_ORDER_ASC: SortOrder.asc,
    listing_pb2.SORT_ORDER_DESC: SortOrder.desc,
}


# -- requests -------------------------------------------------------------------------------------
def uuid_of(field: str, text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise InvalidInput(field, "must be a UUID") from None


def expected_versions(request: Any) -> frozenset[int] | None:
    """``expected_version`` when set (like an If-Match with one tag), else None: any version will do."""
    return frozenset((request.expected_version,)) if request.HasField("expected_version") else None


def list_query[Q: ListQuery](request: Any, query: type[Q] = ListQuery, **filters: Any) -> Q:  # type: ignore[assignment]
    """The use case's query from a ListPostsRequest (``ListQuery``) or a ListCommentsRequest
    (``CommentQuery``, with ``post_id`` among ``filters``)."""
    start, end = _datetime(request, "from_date"), _datetime(request, "to_date")
    if start is not None and end is not None and start > end:
        raise InvalidInput("from_date", "must not be after to_date")
    limit = request.limit if request.HasField("limit") else _DEFAULT.limit
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"must be between 1 and {MAX_LIMIT}")
    offset = request.offset if request.HasField("offset") else None
    if offset is not None and offset < 0:
        raise InvalidInput("offset", "must not be negative")
    return query(
        owner_id=uuid_of("owner_id", request.owner_id) if request.HasField("owner_id") else None,
        from_date=start,
        to_date=end,
        sort_by=_enum(_SORT_FIELDS, "sort_by", request.sort_by),
        order=_enum(_SORT_ORDERS, "order", request.order),
        limit=limit,
        offset=offset,
        cursor=request.cursor if request.HasField("cursor") else None,
        **filters,
    )


def _enum[T](known: dict[int, T], field: str, number: int) -> T:
    # proto3 enums are open: a number this server does not know arrives as itself.
    try:
        return known[number]
    except KeyError:
        raise InvalidInput(field, f"unknown value {number}") from None


def _datetime(request: Any, field: str) -> datetime | None:
    if not request.HasField(field):
        return None
    value: Timestamp = getattr(request, field)
    try:
        if not 0 <= value.nanos < 1_000_000_000:
            raise ValueError(value.nanos)
        converted: datetime = value.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(field, "must be a valid timestamp between years 1 and 9999") from None
    return converted


# -- responses ------------------------------------------------------------------------------------
def timestamp(value: datetime) -> Timestamp:
    # By hand rather than Timestamp.FromDatetime: 1.1 µs against 5 µs here, twice per item of a page.
    delta = value - _EPOCH
    return Timestamp(seconds=delta.days * 86_400 + delta.seconds, nanos=delta.microseconds * 1000)


def post_message(post: Post) -> posts_pb2.Post:
    return posts_pb2.Post(
        id=str(post.id),
        owner_id=str(post.owner_id),
        content=post.content,
        created_at=timestamp(post.created_at),
        updated_at=timestamp(post.updated_at),
        version=post.version,
    )


def comment_message(comment: Comment) -> comments_pb2.Comment:
    return comments_pb2.Comment(
        id=str(comment.id),
        post_id=str(comment.post_id),
        owner_id=str(comment.owner_id),
        content=comment.content,
        created_at=timestamp(comment.created_at),
        updated_at=timestamp(comment.updated_at),
        version=comment.version,
    )


def user_message(user: User) -> users_pb2.User:
    return users_pb2.User(
        id=str(user.id),
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        is_active=user.is_active,
        created_at=timestamp(user.created_at),
        updated_at=timestamp(user.updated_at),
    )
