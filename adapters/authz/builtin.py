"""The built-in authorizer: the relationships are our own rows. It answers domain.policy.GRANTS:
the owner from the row the use case loaded (no query); an editor with one indexed query of the
shares (adapters/db/sharing.py: IS_EDITOR); the owner of a comment's post with one primary-key read."""

from __future__ import annotations

from adapters.db.posts import PiccoloPostRepository
from adapters.db.sharing import PiccoloSharingRepository
from domain.comments import Comment
from domain.model import Principal
from domain.policy import GRANTS, kind_of
from domain.ports import Action
from domain.posts import Post


class BuiltinAuthorizer:
    remote = False  # our own database: asked inside the write transaction (domain.ports.Authorizer)

    def __init__(self, posts: PiccoloPostRepository, sharing: PiccoloSharingRepository) -> None:
        self._posts = posts
        self._sharing = sharing

    async def is_allowed(self, principal: Principal, action: Action, resource: Post | Comment) -> bool:
        # Admins are let through by domain.policy before this.
        grants = GRANTS.get((kind_of(resource), action), frozenset())
        if "owner" in grants and resource.owner_id == principal.id:
            return True
        if "editor" in grants and isinstance(resource, Post):
            return await self._sharing.is_editor(resource.id, principal.id)
        if "post_owner" in grants and isinstance(resource, Comment):
            return await self._posts.owner_of(resource.post_id) == principal.id
        return False
