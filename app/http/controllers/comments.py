from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from app.http.auth import principal_of
from app.http.conditional import etag, expected_versions
from app.http.controllers.common import ETAG, LOCATION, ConditionalRead, Id, IfMatch, location, parse_id, problems
from app.http.controllers.listing import (
    LIMIT,
    ORDER,
    SORT_BY,
    Cursor,
    FromDate,
    Limit,
    Offset,
    Order,
    OwnerFilter,
    SortBy,
    ToDate,
    list_query,
)
from app.http.idempotency import IdempotentCreate, idempotency_key, idempotent, replayed
from app.http.schemas import CommentOut, CommentPage, ContentIn, NewComment
from domain.comments import Comment, CommentQuery
from domain.use_cases.comments import CreateComment, DeleteComment, GetComment, ListComments, UpdateComment


class CommentController(Controller):
    path = "/v1/comments"
    tags = ["comments"]

    @post(
        "/",
        name="comments:create",
        summary="Comment on a post",
        responses=problems(400, 403, 404, 409, 413, 415, 422),
        response_headers=[LOCATION, ETAG],
        operation_class=IdempotentCreate,
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[NewComment],
        create_comment: NamedDependency[CreateComment],
    ) -> Response[CommentOut]:
        """Any authenticated caller may comment on any post (404 if it does not exist) and owns the
        comment. The content is trimmed; 1–10,000 characters must remain. With `Idempotency-Key`, a
        retry creates nothing and gets the first answer again."""

        def created(comment: Comment) -> Response[CommentOut]:
            headers = {
                "Location": location(request, "comments:get", comment_id=str(comment.id)),
                "ETag": etag(comment.version),
            }
            return Response(CommentOut.of(comment), status_code=201, headers=headers)

        key = idempotency_key(request.scope)
        if key is None:
            return created(await create_comment(principal_of(request), data.post_id, data.content))
        once = await idempotent(request, key, created)
        return replayed(await create_comment(principal_of(request), data.post_id, data.content, once))

    @get("/", name="comments:list", summary="List comments", responses=problems(400))
    async def list(
        self,
        list_comments: NamedDependency[ListComments],
        post_id: Annotated[uuid.UUID | None, QueryParameter(description="only comments on this post")] = None,
        owner_id: OwnerFilter = None,
        from_date: FromDate = None,
        to_date: ToDate = None,
        sort_by: SortBy = SORT_BY,
        order: Order = ORDER,
        limit: Limit = LIMIT,
        offset: Offset = None,
        cursor: Cursor = None,
    ) -> CommentPage:
        """A page of comments, by post, owner and creation time, newest change first by default.
        `total` counts every comment the filters match."""
        query = list_query(
            owner_id, from_date, to_date, sort_by, order, limit, offset, cursor, CommentQuery, post_id=post_id
        )
        page = await list_comments(query)
        return CommentPage(
            [CommentOut.of(item) for item in page.items], page.total, page.limit, page.offset, page.next_cursor
        )

    @get(
        "/{comment_id:str}",
        name="comments:get",
        summary="Get a comment",
        responses=problems(400, 404),
        response_headers=[ETAG],
        operation_class=ConditionalRead,
    )
    async def get(self, comment_id: FromPath[Id], get_comment: NamedDependency[GetComment]) -> Response[CommentOut]:
        """Any authenticated caller may read any comment. `ETag` is its version."""
        found = await get_comment(parse_id("comment_id", comment_id))
        return Response(CommentOut.of(found), headers={"ETag": etag(found.version)})

    @patch(
        "/{comment_id:str}",
        name="comments:update",
        summary="Change a comment's content (owner or admin)",
        responses=problems(400, 403, 404, 412, 413, 415),
        response_headers=[ETAG],
    )
    async def update(
        self,
        request: Request[Any, Any, Any],
        comment_id: FromPath[Id],
        data: JSONBody[ContentIn],
        update_comment: NamedDependency[UpdateComment],
        if_match: IfMatch = None,
    ) -> Response[CommentOut]:
        """Replaces the content and adds one to the version. With `If-Match`, only if the version you
        name is still current (else 412)."""
        updated = await update_comment(
            principal_of(request), parse_id("comment_id", comment_id), data.content, expected_versions(if_match)
        )
        return Response(CommentOut.of(updated), headers={"ETag": etag(updated.version)})

    @delete(
        "/{comment_id:str}",
        name="comments:delete",
        summary="Delete a comment (its owner or admin)",
        responses=problems(400, 403, 404, 412),
    )
    async def delete(
        self,
        request: Request[Any, Any, Any],
        comment_id: FromPath[Id],
        delete_comment: NamedDependency[DeleteComment],
        if_match: IfMatch = None,
    ) -> None:
        """With `If-Match`, only if the version you name is still current (else 412 and nothing is deleted)."""
        await delete_comment(principal_of(request), parse_id("comment_id", comment_id), expected_versions(if_match))
