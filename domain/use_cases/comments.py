"""What a caller can do with comments. Each use case states its rule; the steps it shares with other
resources are in steps.py."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import overload

from domain.comments import Comment, CommentQuery, CommentReader, CommentRepository
from domain.idempotency import Answer, Idempotent
from domain.listing import Page
from domain.model import Principal
from domain.ports import Authorizer, Clock, IdempotencyKeys, RelationChange, UnitOfWorkFactory
from domain.posts import PostRepository
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
class CreateComment:
    """The caller owns the new comment. Sent ``once`` (an idempotency key), a retry gets the first answer."""

    uow: UnitOfWorkFactory
    comments: CommentRepository
    posts: PostRepository
    users: UserRepository
    keys: IdempotencyKeys
    clock: Clock

    @overload
    async def __call__(self, principal: Principal, post_id: uuid.UUID, content: str, once: None = None) -> Comment: ...
    @overload
    async def __call__(
        self, principal: Principal, post_id: uuid.UUID, content: str, once: Idempotent[Comment]
    ) -> Answer: ...
    async def __call__(
        self, principal: Principal, post_id: uuid.UUID, content: str, once: Idempotent[Comment] | None = None
    ) -> Comment | Answer:
        comment = Comment.new(post_id, principal.id, content, self.clock.now())
        async with self.uow() as uow:
            if once is not None and (first := await replay(self.keys, principal, once, self.clock)):
                return first  # a retry: what the first request got; nothing is created
            await load(self.posts, "post", post_id, for_update=True)  # a concurrent delete cannot orphan it
            await register_writer(self.users, principal, self.clock)
            await self.comments.add(comment)
            # region: openfga
            await uow.outbox.record(
                [
                    RelationChange.owner("write", comment.owner_id, "comment", comment.id),
                    RelationChange.comment_post("write", comment.id, post_id),
                ]
            )
            # endregion
            answer = None if once is None else await keep_answer(self.keys, principal, once, comment)
            await uow.commit()
        return comment if answer is None else answer


@dataclass(frozen=True, slots=True)
class GetComment:
    comments: CommentRepository

    async def __call__(self, comment_id: uuid.UUID) -> Comment:
        return await load(self.comments, "comment", comment_id)  # one statement: no unit of work


@dataclass(frozen=True, slots=True)
class ListComments:
    comments: CommentReader

    async def __call__(self, query: CommentQuery) -> Page[Comment]:
        return await self.comments.list(query)  # the page and its total in one statement: no unit of work


@dataclass(frozen=True, slots=True)
class UpdateComment:
    """The owner (or an admin) changes the content; a stale expected version changes nothing."""

    uow: UnitOfWorkFactory
    comments: CommentRepository
    authorizer: Authorizer
    clock: Clock

    async def __call__(
        self,
        principal: Principal,
        comment_id: uuid.UUID,
        content: str,
        expected_versions: Collection[int] | None = None,
    ) -> Comment:
        await authorize_before(self.authorizer, principal, "can_update", self.comments, "comment", comment_id)
        async with self.uow() as uow:
            comment = await load(self.comments, "comment", comment_id, for_update=True)
            await authorize_locked(self.authorizer, principal, "can_update", comment)
            check_version("comment", comment, expected_versions)
            revised = comment.revised(content, self.clock.now())
            await save_revision(self.comments, "comment", revised)
            await uow.commit()
        return revised


@dataclass(frozen=True, slots=True)
class DeleteComment:
    """The comment's owner, the owner of its post (moderation) or an admin deletes it."""

    uow: UnitOfWorkFactory
    comments: CommentRepository
    authorizer: Authorizer

    async def __call__(
        self, principal: Principal, comment_id: uuid.UUID, expected_versions: Collection[int] | None = None
    ) -> None:
        await authorize_before(self.authorizer, principal, "can_delete", self.comments, "comment", comment_id)
        async with self.uow() as uow:
            comment = await load(self.comments, "comment", comment_id, for_update=True)
            await authorize_locked(self.authorizer, principal, "can_delete", comment)
            check_version("comment", comment, expected_versions)
            await self.comments.delete(comment_id)
            # region: openfga
            await uow.outbox.record(
                [
                    RelationChange.owner("delete", comment.owner_id, "comment", comment.id),
                    RelationChange.comment_post("delete", comment.id, comment.post_id),
                ]
            )
            # endregion
            await uow.commit()
