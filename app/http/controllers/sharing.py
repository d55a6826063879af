"""Sharing a post: its editors, users and Keycloak groups (domain/use_cases/sharing.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath

from app.http.auth import principal_of
from app.http.controllers.common import Id, parse_id, problems
from app.http.schemas import EditorsOut
from domain.use_cases.sharing import ListEditors, ShareWithGroup, ShareWithUser, UnshareWithGroup, UnshareWithUser


class SharingController(Controller):
    path = "/v1/posts/{post_id:str}"
    tags = ["sharing"]

    @get(
        "/editors",
        name="posts:editors",
        summary="List a post's editors (owner, editor or admin)",
        responses=problems(403, 404),
    )
    async def editors(
        self, request: Request[Any, Any, Any], post_id: FromPath[Id], list_editors: NamedDependency[ListEditors]
    ) -> EditorsOut:
        """The users and the Keycloak groups the post is shared with, each sorted by id."""
        found = await list_editors(principal_of(request), parse_id("post_id", post_id))
        return EditorsOut(found.users, found.groups)

    @put(
        "/editors/{user_id:str}",
        name="posts:share-user",
        status_code=204,
        summary="Make a user an editor of a post (owner or admin)",
        responses=problems(403, 404),
    )
    async def share_with_user(
        self,
        request: Request[Any, Any, Any],
        post_id: FromPath[Id],
        user_id: FromPath[Id],
        share_with_user: NamedDependency[ShareWithUser],
    ) -> None:
        """The user may then change the post (not delete it, nor change its editors). The user must
        be known (404 otherwise) and not the post's owner (400). Repeating it changes nothing."""
        await share_with_user(principal_of(request), parse_id("post_id", post_id), parse_id("user_id", user_id))

    @delete(
        "/editors/{user_id:str}",
        name="posts:unshare-user",
        summary="Take a user's editing of a post back (owner or admin)",
        responses=problems(403, 404),
    )
    async def unshare_with_user(
        self,
        request: Request[Any, Any, Any],
        post_id: FromPath[Id],
        user_id: FromPath[Id],
        unshare_with_user: NamedDependency[UnshareWithUser],
    ) -> None:
        """204 also when the user was no editor."""
        await unshare_with_user(principal_of(request), parse_id("post_id", post_id), parse_id("user_id", user_id))

    @put(
        "/editor-groups/{group_id:str}",
        name="posts:share-group",
        status_code=204,
        summary="Make a Keycloak group's members editors of a post (owner or admin)",
        responses=problems(403, 404),
    )
    async def share_with_group(
        self,
        request: Request[Any, Any, Any],
        post_id: FromPath[Id],
        group_id: FromPath[Id],
        share_with_group: NamedDependency[ShareWithGroup],
    ) -> None:
        """Its members now and later, as Keycloak's admin events tell (docs/permissions.md). The group
        must be known from those events (404 otherwise). Repeating it changes nothing."""
        await share_with_group(principal_of(request), parse_id("post_id", post_id), parse_id("group_id", group_id))

    @delete(
        "/editor-groups/{group_id:str}",
        name="posts:unshare-group",
        summary="Take a Keycloak group's editing of a post back (owner or admin)",
        responses=problems(403, 404),
    )
    async def unshare_with_group(
        self,
        request: Request[Any, Any, Any],
        post_id: FromPath[Id],
        group_id: FromPath[Id],
        unshare_with_group: NamedDependency[UnshareWithGroup],
    ) -> None:
        """204 also when the group was no editor."""
        await unshare_with_group(principal_of(request), parse_id("post_id", post_id), parse_id("group_id", group_id))
