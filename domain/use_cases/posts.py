"""What a caller can do with posts. Each use case states its rule; the steps it shares with other
resources are in steps.py."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import overload

from domain.comments import CommentRepository
from domain.idempotency import Answer, Idempotent
from domain.listing import Page
from domain.model import Principal
from domain.ports import Authorizer, Clock, IdempotencyKeys, RelationChange, UnitOfWorkFactory
from domain.posts import Post, PostQuery, PostReader, PostRepository
from domain.sharing import SharingRepository
from domain.use_cases.steps import (
    authorize_before,
    authorize_locked,
    check_version,
    keep_answer,
    load,
    register_writer,
    replay,
    save_revision,
)
from domain.users import UserRepository


@dataclass(frozen=True, slots=True)
class CreatePost:
    """The caller owns the new post. Sent ``once`` (an idempotency key), a retry gets the first answer."""

    uow: UnitOfWorkFactory
    posts: PostRepository
    users: UserRepository
    keys: IdempotencyKeys
    clock: Clock

    @overload
    async def __call__(self, principal: Principal, content: str, once: None = None) -> Post: ...
    @overload
    async def __call__(self, principal: Principal, content: str, once: Idempotent[Post]) -> Answer: ...
    async def __call__(self, principal: Principal, content: str, once: Idempotent[Post] | None = None) -> Post | Answer:
        post = Post.new(principal.id, content, self.clock.now())
        async with self.uow() as uow:
            if once is not None and (first := await replay(self.keys, principal, once, self.clock)):
                return first  # a retry: what the first request got; nothing is created
            await register_writer(self.users, principal, self.clock)
            await self.posts.add(post)
            # region: openfga
            await uow.outbox.record([RelationChange.owner("write", post.owner_id, "post", post.id)])
            # endregion
            answer = None if once is None else await keep_answer(self.keys, principal, once, post)
            await uow.commit()
        return post if answer is None else answer


@dataclass(frozen=True, slots=True)
class GetPost:
    posts: PostRepository

    async def __call__(self, post_id: uuid.UUID) -> Post:
        return await load(self.posts, "post", post_id)  # one statement: no unit of work


@dataclass(frozen=True, slots=True)
class ListPosts:
    posts: PostReader

    async def __call__(self, query: PostQuery) -> Page[Post]:
        return await self.posts.list(query)  # the page and its total in one statement: no unit of work


@dataclass(frozen=True, slots=True)
class UpdatePost:
    """The owner, an editor (or an admin) changes the content; a stale expected version changes nothing."""

    uow: UnitOfWorkFactory
    posts: PostRepository
    authorizer: Authorizer
    clock: Clock

    async def __call__(
        self, principal: Principal, post_id: uuid.UUID, content: str, expected_versions: Collection[int] | None = None
    ) -> Post:
        await authorize_before(self.authorizer, principal, "can_update", self.posts, "post", post_id)
        async with self.uow() as uow:
            post = await load(self.posts, "post", post_id, for_update=True)
            await authorize_locked(self.authorizer, principal, "can_update", post)
            check_version("post", post, expected_versions)
            revised = post.revised(content, self.clock.now())
            await save_revision(self.posts, "post", revised)
            await uow.commit()
        return revised


@dataclass(frozen=True, slots=True)
class DeletePost:
    """The owner (or an admin) deletes the post, and with it its comments and its shares."""

    uow: UnitOfWorkFactory
    posts: PostRepository
    # region: openfga
    comments: CommentRepository  # whose tuples go with them
    sharing: SharingRepository
    # endregion
    authorizer: Authorizer

    async def __call__(
        self, principal: Principal, post_id: uuid.UUID, expected_versions: Collection[int] | None = None
    ) -> None:
        await authorize_before(self.authorizer, principal, "can_delete", self.posts, "post", post_id)
        async with self.uow() as uow:
            post = await load(self.posts, "post", post_id, for_update=True)
            await authorize_locked(self.authorizer, principal, "can_delete", post)
            check_version("post", post, expected_versions)
            # region: openfga
            comments = await self.comments.owners_on_post(post_id)
            editors = await self.sharing.editors(post_id)
            # endregion
            await self.posts.delete(post_id)  # its comments and shares go with it (ON DELETE CASCADE)
            # region: openfga
            await uow.outbox.record(
                [RelationChange.owner("delete", post.owner_id, "post", post.id)]
                + [RelationChange.editor("delete", post_id, user_id) for user_id in editors.users]
                + [RelationChange.editor_group("delete", post_id, group_id) for group_id in editors.groups]
                + [
                    change
                    for comment_id, owner_id in comments
                    for change in (
                        RelationChange.owner("delete", owner_id, "comment", comment_id),
                        RelationChange.comment_post("delete", comment_id, post_id),
                    )
                ]
            )
            # endregion
            await uow.commit()
