"""The built-in authorizer: the relationships are the rows' own owner ids, in our database."""

from __future__ import annotations

from domain.comments import Comment
from domain.model import Principal
from domain.ports import Action
from domain.posts import Post


class BuiltinAuthorizer:
    remote = False  # decided from the row: asked inside the write transaction (domain.ports.Authorizer)

    async def is_allowed(self, principal: Principal, action: Action, resource: Post | Comment) -> bool:
        # owner → can_update, can_delete (admins are let through by domain.policy before this).
        return resource.owner_id == principal.id
