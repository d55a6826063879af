"""Who may do what. Admin comes from the token's role; everything else from the relationships."""

from __future__ import annotations

from domain.comments import Comment
from domain.errors import Forbidden
from domain.model import Principal
from domain.ports import Action, Authorizer
from domain.posts import Post


async def ensure_allowed(
    authorizer: Authorizer, principal: Principal, action: Action, resource: Post | Comment
) -> None:
    if principal.is_admin:
        return
    if not await authorizer.is_allowed(principal, action, resource):
        kind = "post" if isinstance(resource, Post) else "comment"
        verb = "update" if action == "can_update" else "delete"
        raise Forbidden(f"only the {kind}'s owner or an administrator may {verb} it")
