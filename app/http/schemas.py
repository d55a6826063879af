"""Request and response bodies. Constraints live in msgspec.Meta so that a bad body is a 400
before any of our code runs, and the OpenAPI document shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Self

import msgspec

from domain.comments import Comment
from domain.model import CONTENT_MAX_LENGTH
from domain.posts import Post
from domain.service_context import ServiceContext
from domain.users import User

# region: blog
# No maxLength: the limit counts characters after trimming (domain.model.clean_content enforces it),
# so a padded body at the limit is valid, and a schema bound on the raw string would refuse it.
Content = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        description=f"1–{CONTENT_MAX_LENGTH:,} characters after trimming surrounding whitespace; no NUL characters",
        examples=["Hello, world"],
    ),
]
# endregion


NextCursor = Annotated[
    str | None,
    msgspec.Meta(
        description=(
            "pass it as `cursor` for the next page of the same listing (same filters and order); null on the "
            "last page. Opaque: send it back as it came"
        )
    ),
]


# region: blog
class ContentIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    content: Content


class NewComment(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    post_id: uuid.UUID
    content: Content


# endregion


class UserOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    username: str
    full_name: str | None
    email: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> Self:
        return cls(
            id=user.id,
            username=user.username,
            full_name=user.full_name,
            email=user.email,
            is_active=user.is_active,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


# region: blog
class PostOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    owner_id: uuid.UUID
    content: str
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, post: Post) -> Self:
        return cls(post.id, post.owner_id, post.content, post.created_at, post.updated_at, post.version)


class CommentOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    post_id: uuid.UUID
    owner_id: uuid.UUID
    content: str
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, comment: Comment) -> Self:
        return cls(
            comment.id,
            comment.post_id,
            comment.owner_id,
            comment.content,
            comment.created_at,
            comment.updated_at,
            comment.version,
        )


class PostPage(msgspec.Struct, frozen=True):
    items: list[PostOut]
    total: int
    limit: int
    offset: int
    next_cursor: NextCursor


class CommentPage(msgspec.Struct, frozen=True):
    items: list[CommentOut]
    total: int
    limit: int
    offset: int
    next_cursor: NextCursor


class EditorsOut(msgspec.Struct, frozen=True):
    """Who a post is shared with; members of a group are editors through it."""

    users: list[uuid.UUID]
    groups: list[uuid.UUID]


# endregion


class MaintenanceIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    maintenance: bool


class ServiceContextOut(msgspec.Struct, frozen=True):
    maintenance: bool
    updated_at: Annotated[
        datetime, msgspec.Meta(description="when it was last changed; 1970-01-01T00:00:00Z if it never was")
    ]

    @classmethod
    def of(cls, context: ServiceContext) -> Self:
        return cls(maintenance=context.maintenance, updated_at=context.updated_at)
