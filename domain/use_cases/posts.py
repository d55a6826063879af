from __future__ import annotations

import uuid
from collections.abc import Collection

from domain.model import Post, Principal
from domain.ports import Authorizer, Clock, PostRepository, RelationChange, UnitOfWork, UnitOfWorkFactory
from domain.use_cases.content import (
    ContentUseCase,
    GetContent,
    ListContent,
    ReviseContent,
    ensure_version,
    register_writer,
)


class _Posts:
    kind = "post"

    @staticmethod
    def repository(uow: UnitOfWork) -> PostRepository:
        return uow.posts


class GetPost(_Posts, GetContent[Post]):
    pass


class ListPosts(_Posts, ListContent[Post]):
    pass


class UpdatePost(_Posts, ReviseContent[Post]):
    pass


class CreatePost:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, principal: Principal, content: str) -> Post:
        post = Post.new(principal.id, content, self._clock.now())
        async with self._uow() as uow:
            await register_writer(uow, principal, self._clock)
            await uow.posts.add(post)
            await uow.outbox.record([RelationChange.owner("write", post.owner_id, "post", post.id)])
            await uow.commit()
        return post


class DeletePost(_Posts, ContentUseCase[Post]):
    def __init__(self, uow: UnitOfWorkFactory, authorizer: Authorizer) -> None:
        super().__init__(uow)
        self._authorizer = authorizer

    async def __call__(
        self, principal: Principal, post_id: uuid.UUID, expected_versions: Collection[int] | None = None
    ) -> None:
        await self.authorize_before(self._authorizer, principal, "can_delete", post_id)
        async with self._uow() as uow:
            post = await self.load(uow, post_id, for_update=True)
            await self.authorize_locked(self._authorizer, principal, "can_delete", post)
            ensure_version(self.kind, post, expected_versions)
            comments = await uow.comments.ids_of_post(post_id)
            await uow.posts.delete(post_id)  # its comments go with it (ON DELETE CASCADE)
            await uow.outbox.record(
                [RelationChange.owner("delete", post.owner_id, "post", post.id)]
                + [RelationChange.owner("delete", owner_id, "comment", comment_id) for comment_id, owner_id in comments]
            )
            await uow.commit()
