"""Sharing a post: its owner (or an admin) makes users, or the members of a Keycloak group, its
editors, and takes that back; the owner and the editors may see who they are.
# region: openfga
Each change is recorded in the outbox in the same transaction as its row, and only when it changed
something.
# endregion
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domain.errors import InvalidInput, NotFound
from domain.model import Principal
from domain.policy import ensure_allowed
from domain.ports import Authorizer, RelationChange, UnitOfWorkFactory
from domain.posts import Post, PostRepository
from domain.sharing import Editors, GroupRepository, SharingRepository
from domain.use_cases.steps import authorize_before, authorize_locked, load
from domain.users import UserRepository


async def _load_for_sharing(
    authorizer: Authorizer, principal: Principal, posts: PostRepository, post_id: uuid.UUID
) -> Post:
    """The post, locked (a concurrent delete cannot orphan a share), once the caller may share it."""
    post = await load(posts, "post", post_id, for_update=True)
    await authorize_locked(authorizer, principal, "can_share", post)
    return post


@dataclass(frozen=True, slots=True)
class ShareWithUser:
    """The user becomes an editor of the post: they may change it, not delete or reshare it."""

    uow: UnitOfWorkFactory
    posts: PostRepository
    users: UserRepository
    sharing: SharingRepository
    authorizer: Authorizer

    async def __call__(self, principal: Principal, post_id: uuid.UUID, user_id: uuid.UUID) -> None:
        await authorize_before(self.authorizer, principal, "can_share", self.posts, "post", post_id)
        async with self.uow() as uow:
            post = await _load_for_sharing(self.authorizer, principal, self.posts, post_id)
            if user_id == post.owner_id:
                raise InvalidInput("user_id", "is the post's owner, who may edit it already")
            await load(self.users, "user", user_id)
            added = await self.sharing.add_user(post_id, user_id)
            # region: openfga
            if added:
                await uow.outbox.record([RelationChange.editor("write", post_id, user_id)])
            # endregion
            await uow.commit()


@dataclass(frozen=True, slots=True)
class UnshareWithUser:
    """The user is no editor of the post any more (whether or not they were)."""

    uow: UnitOfWorkFactory
    posts: PostRepository
    sharing: SharingRepository
    authorizer: Authorizer

    async def __call__(self, principal: Principal, post_id: uuid.UUID, user_id: uuid.UUID) -> None:
        await authorize_before(self.authorizer, principal, "can_share", self.posts, "post", post_id)
        async with self.uow() as uow:
            await _load_for_sharing(self.authorizer, principal, self.posts, post_id)
            removed = await self.sharing.remove_user(post_id, user_id)
            # region: openfga
            if removed:
                await uow.outbox.record([RelationChange.editor("delete", post_id, user_id)])
            # endregion
            await uow.commit()


@dataclass(frozen=True, slots=True)
class ShareWithGroup:
    """Every member of the Keycloak group (now and later) becomes an editor of the post."""

    uow: UnitOfWorkFactory
    posts: PostRepository
    groups: GroupRepository
    sharing: SharingRepository
    authorizer: Authorizer

    async def __call__(self, principal: Principal, post_id: uuid.UUID, group_id: uuid.UUID) -> None:
        await authorize_before(self.authorizer, principal, "can_share", self.posts, "post", post_id)
        async with self.uow() as uow:
            await _load_for_sharing(self.authorizer, principal, self.posts, post_id)
            group = await self.groups.get(group_id, for_update=True)  # a concurrent GROUP DELETE waits
            if group is None or group.deleted:
                raise NotFound(f"group {group_id} does not exist (groups come from Keycloak's admin events)")
            added = await self.sharing.add_group(post_id, group_id)
            # region: openfga
            if added:
                await uow.outbox.record([RelationChange.editor_group("write", post_id, group_id)])
            # endregion
            await uow.commit()


@dataclass(frozen=True, slots=True)
class UnshareWithGroup:
    """The group's members are no editors of the post through it any more."""

    uow: UnitOfWorkFactory
    posts: PostRepository
    sharing: SharingRepository
    authorizer: Authorizer

    async def __call__(self, principal: Principal, post_id: uuid.UUID, group_id: uuid.UUID) -> None:
        await authorize_before(self.authorizer, principal, "can_share", self.posts, "post", post_id)
        async with self.uow() as uow:
            await _load_for_sharing(self.authorizer, principal, self.posts, post_id)
            removed = await self.sharing.remove_group(post_id, group_id)
            # region: openfga
            if removed:
                await uow.outbox.record([RelationChange.editor_group("delete", post_id, group_id)])
            # endregion
            await uow.commit()


@dataclass(frozen=True, slots=True)
class ListEditors:
    """Who the post is shared with: for its owner, its editors and admins."""

    posts: PostRepository
    sharing: SharingRepository
    authorizer: Authorizer

    async def __call__(self, principal: Principal, post_id: uuid.UUID) -> Editors:
        post = await load(self.posts, "post", post_id)
        await ensure_allowed(self.authorizer, principal, "can_list_editors", post)
        return await self.sharing.editors(post_id)  # two reads, no transaction: a listing may be a moment old
