"""Who may do what. Admin comes from the token's role; everything else from the relationships."""

from __future__ import annotations

import uuid
from typing import Literal, Protocol

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


class Owned(Protocol):
    @property
    def owner_id(self) -> uuid.UUID: ...


def ensure_owner(principal: Principal, kind: str, resource: Owned, verb: Literal["update", "delete"]) -> None:
    """Owner or admin, decided from the row alone: the rule of a resource whose permission is
    ownership and nothing more. No relationship is stored for it, so the built-in authorizer and
    OpenFGA cannot disagree about it; one that can be shared goes through the Authorizer instead."""
    if not (principal.is_admin or resource.owner_id == principal.id):
        raise Forbidden(f"only the {kind}'s owner or an administrator may {verb} it")
