from __future__ import annotations

import uuid
from collections.abc import Collection

from domain.model import Comment, Principal
from domain.ports import Authorizer, Clock, CommentRepository, RelationChange, UnitOfWork, UnitOfWorkFactory
from domain.use_cases.content import (
    ContentUseCase,
    GetContent,
    ListContent,
    ReviseContent,
    ensure_version,
    not_found,
    register_writer,
)


class _Comments:
    kind = "comment"

    @staticmethod
    def repository(uow: UnitOfWork) -> CommentRepository:
        return uow.comments


class GetComment(_Comments, GetContent[Comment]):
    pass


class ListComments(_Comments, ListContent[Comment]):
    pass


class UpdateComment(_Comments, ReviseContent[Comment]):
    pass


class CreateComment:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, principal: Principal, post_id: uuid.UUID, content: str) -> Comment:
        comment = Comment.new(post_id, principal.id, content, self._clock.now())
        async with self._uow() as uow:
            # Locks the post so that a concurrent delete cannot orphan the comment.
            if await uow.posts.get(post_id, for_update=True) is None:
                raise not_found("post", post_id)
            await register_writer(uow, principal, self._clock)
            await uow.comments.add(comment)
            await uow.outbox.record([RelationChange.owner("write", comment.owner_id, "comment", comment.id)])
            await uow.commit()
        return comment


class DeleteComment(_Comments, ContentUseCase[Comment]):
    def __init__(self, uow: UnitOfWorkFactory, authorizer: Authorizer) -> None:
        super().__init__(uow)
        self._authorizer = authorizer

    async def __call__(
        self, principal: Principal, comment_id: uuid.UUID, expected_versions: Collection[int] | None = None
    ) -> None:
        await self.authorize_before(self._authorizer, principal, "can_delete", comment_id)
        async with self._uow() as uow:
            comment = await self.load(uow, comment_id, for_update=True)
            await self.authorize_locked(self._authorizer, principal, "can_delete", comment)
            ensure_version(self.kind, comment, expected_versions)
            await uow.comments.delete(comment_id)
            await uow.outbox.record([RelationChange.owner("delete", comment.owner_id, "comment", comment.id)])
            await uow.commit()
