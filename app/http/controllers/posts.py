from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

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
from app.http.schemas import ContentIn, PostOut, PostPage
from domain.posts import Post
from domain.use_cases.posts import CreatePost, DeletePost, GetPost, ListPosts, UpdatePost


class PostController(Controller):
    path = "/v1/posts"
    tags = ["posts"]

    @post(
        "/",
        name="posts:create",
        summary="Create a post",
        responses=problems(400, 403, 409, 413, 415, 422),
        response_headers=[LOCATION, ETAG],
        operation_class=IdempotentCreate,
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ContentIn],
        create_post: NamedDependency[CreatePost],
    ) -> Response[PostOut]:
        """The caller becomes the post's owner (and a user, from the token, on a first write). The
        content is trimmed; 1–10,000 characters must remain. `Location` says where the post lives.
        With `Idempotency-Key`, a retry creates nothing and gets the first answer again."""

        def created(post: Post) -> Response[PostOut]:
            headers = {"Location": location(request, "posts:get", post_id=str(post.id)), "ETag": etag(post.version)}
            return Response(PostOut.of(post), status_code=201, headers=headers)

        key = idempotency_key(request.scope)
        if key is None:
            return created(await create_post(principal_of(request), data.content))
        once = await idempotent(request, key, created)
        return replayed(await create_post(principal_of(request), data.content, once))

    @get("/", name="posts:list", summary="List posts", responses=problems(400))
    async def list(
        self,
        list_posts: NamedDependency[ListPosts],
        owner_id: OwnerFilter = None,
        from_date: FromDate = None,
        to_date: ToDate = None,
        sort_by: SortBy = SORT_BY,
        order: Order = ORDER,
        limit: Limit = LIMIT,
        offset: Offset = None,
        cursor: Cursor = None,
    ) -> PostPage:
        """A page of posts, filtered by owner and creation time, newest change first by default.
        `total` counts every post the filters match."""
        page = await list_posts(list_query(owner_id, from_date, to_date, sort_by, order, limit, offset, cursor))
        return PostPage(
            [PostOut.of(item) for item in page.items], page.total, page.limit, page.offset, page.next_cursor
        )

    @get(
        "/{post_id:str}",
        name="posts:get",
        summary="Get a post",
        responses=problems(400, 404),
        response_headers=[ETAG],
        operation_class=ConditionalRead,
    )
    async def get(self, post_id: FromPath[Id], get_post: NamedDependency[GetPost]) -> Response[PostOut]:
        """Any authenticated caller may read any post. `ETag` is its version."""
        found = await get_post(parse_id("post_id", post_id))
        return Response(PostOut.of(found), headers={"ETag": etag(found.version)})

    @patch(
        "/{post_id:str}",
        name="posts:update",
        summary="Change a post's content (owner or admin)",
        responses=problems(400, 403, 404, 412, 413, 415),
        response_headers=[ETAG],
    )
    async def update(
        self,
        request: Request[Any, Any, Any],
        post_id: FromPath[Id],
        data: JSONBody[ContentIn],
        update_post: NamedDependency[UpdatePost],
        if_match: IfMatch = None,
    ) -> Response[PostOut]:
        """Replaces the content and adds one to the version. With `If-Match`, only if the version you
        name is still current (else 412): of concurrent updates naming the same version, one wins."""
        updated = await update_post(
            principal_of(request), parse_id("post_id", post_id), data.content, expected_versions(if_match)
        )
        return Response(PostOut.of(updated), headers={"ETag": etag(updated.version)})

    @delete(
        "/{post_id:str}",
        name="posts:delete",
        summary="Delete a post and its comments (owner or admin)",
        responses=problems(400, 403, 404, 412),
    )
    async def delete(
        self,
        request: Request[Any, Any, Any],
        post_id: FromPath[Id],
        delete_post: NamedDependency[DeletePost],
        if_match: IfMatch = None,
    ) -> None:
        """Deletes the post and every comment on it. With `If-Match`, only if the version you name is
        still current (else 412 and nothing is deleted)."""
        await delete_post(principal_of(request), parse_id("post_id", post_id), expected_versions(if_match))
