from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from app.http.auth import principal_of
from app.http.conditional import content_etag
from app.http.controllers.common import ETAG, ConditionalRead, Id, parse_id, problems
from app.http.schemas import UserOut
from domain.use_cases.users import GetCurrentUser, GetUser


class UserController(Controller):
    path = "/v1/users"
    tags = ["users"]

    @get(
        "/me",
        name="users:me",
        summary="The caller's user record (created from the token on first use)",
        responses=problems(403),
        response_headers=[ETAG],
        operation_class=ConditionalRead,
    )
    async def me(
        self, request: Request[Any, Any, Any], get_current_user: NamedDependency[GetCurrentUser]
    ) -> Response[UserOut]:
        """The record of the token's subject, created from its claims the first time; 403 once the
        account is deactivated in Keycloak."""
        return _tagged(UserOut.of(await get_current_user(principal_of(request))))

    @get(
        "/{user_id:str}",
        name="users:get",
        summary="A user by id",
        responses=problems(400, 404),
        response_headers=[ETAG],
        operation_class=ConditionalRead,
    )
    async def get(self, user_id: FromPath[Id], get_user: NamedDependency[GetUser]) -> Response[UserOut]:
        """Any authenticated caller may read any user's record (deactivated ones too)."""
        return _tagged(UserOut.of(await get_user(parse_id("user_id", user_id))))


def _tagged(user: UserOut) -> Response[UserOut]:
    return Response(user, headers={"ETag": content_etag(user)})
