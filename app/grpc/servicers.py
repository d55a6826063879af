"""The blog.v1 services: each RPC converts its request, calls one use case, converts the result.

The twins of app/http/controllers/: the same use cases, resolved by type from the app's lagom
container (stateless singletons, built once), the same rules. Authentication, maintenance mode and
error statuses happen around them (app/grpc/interceptors.py); ``caller()`` is the verified caller.
The method names are the protos' (PostService.GetPost ...), hence CamelCase.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message
from lagom import Container

from app.grpc.gen.blog.v1 import (
    comments_pb2,
    comments_pb2_grpc,
    posts_pb2,
    posts_pb2_grpc,
    users_pb2,
    users_pb2_grpc,
)
from app.grpc.interceptors import caller, metadata_values
from app.grpc.messages import comment_message, expected_versions, list_query, post_message, user_message, uuid_of
from domain.comments import Comment, CommentQuery
from domain.idempotency import KEY_FIELD, Answer, Idempotent, clean_key
from domain.posts import Post
from domain.use_cases.comments import CreateComment, DeleteComment, GetComment, ListComments, UpdateComment
from domain.use_cases.posts import CreatePost, DeletePost, GetPost, ListPosts, UpdatePost
from domain.use_cases.users import GetCurrentUser, GetUser

type Context = Any  # grpc.aio.ServicerContext; the interceptors deal with it (creates read a key)

_KEY = KEY_FIELD.lower()  # metadata names are lower case


def idempotent[T](
    context: Context, method: str, request: Message, respond: Callable[[T], Message]
) -> Idempotent[T] | None:
    """HTTP's ``Idempotency-Key`` as the ``idempotency-key`` metadata of a create, with the same rule:
    the fingerprint is the method and the request message's bytes; the kept answer, the response
    message's bytes (status 0, OK). None when the call sent no key."""
    sent = metadata_values(context, _KEY)
    if not sent:
        return None
    key = clean_key(sent[0] if len(sent) == 1 else "")  # two are one too many
    fingerprint = hashlib.sha256(f"{method}\n".encode() + request.SerializeToString(deterministic=True)).digest()
    return Idempotent(
        key, fingerprint, lambda created: Answer(0, {}, respond(created).SerializeToString(deterministic=True))
    )


class PostService(posts_pb2_grpc.PostServiceServicer):
    def __init__(self, container: Container) -> None:
        self.get_post = container[GetPost]
        self.list_posts = container[ListPosts]
        self.create_post = container[CreatePost]
        self.update_post = container[UpdatePost]
        self.delete_post = container[DeletePost]

    async def GetPost(self, request: posts_pb2.GetPostRequest, context: Context) -> posts_pb2.GetPostResponse:
        post = await self.get_post(uuid_of("post_id", request.post_id))
        return posts_pb2.GetPostResponse(post=post_message(post))

    async def ListPosts(self, request: posts_pb2.ListPostsRequest, context: Context) -> posts_pb2.ListPostsResponse:
        page = await self.list_posts(list_query(request))
        return posts_pb2.ListPostsResponse(
            items=[post_message(post) for post in page.items],
            total=page.total,
            limit=page.limit,
            offset=page.offset,
            next_cursor=page.next_cursor,
        )

    async def CreatePost(self, request: posts_pb2.CreatePostRequest, context: Context) -> posts_pb2.CreatePostResponse:
        def created(post: Post) -> posts_pb2.CreatePostResponse:
            return posts_pb2.CreatePostResponse(post=post_message(post))

        once = idempotent(context, "/blog.v1.PostService/CreatePost", request, created)
        if once is None:
            return created(await self.create_post(caller(), request.content))
        replayed = posts_pb2.CreatePostResponse()  # the first call's answer, to it and to every retry
        replayed.ParseFromString((await self.create_post(caller(), request.content, once)).body)
        return replayed

    async def UpdatePost(self, request: posts_pb2.UpdatePostRequest, context: Context) -> posts_pb2.UpdatePostResponse:
        post = await self.update_post(
            caller(), uuid_of("post_id", request.post_id), request.content, expected_versions(request)
        )
        return posts_pb2.UpdatePostResponse(post=post_message(post))

    async def DeletePost(self, request: posts_pb2.DeletePostRequest, context: Context) -> posts_pb2.DeletePostResponse:
        await self.delete_post(caller(), uuid_of("post_id", request.post_id))
        return posts_pb2.DeletePostResponse()


class CommentService(comments_pb2_grpc.CommentServiceServicer):
    def __init__(self, container: Container) -> None:
        self.get_comment = container[GetComment]
        self.list_comments = container[ListComments]
        self.create_comment = container[CreateComment]
        self.update_comment = container[UpdateComment]
        self.delete_comment = container[DeleteComment]

    async def GetComment(
        self, request: comments_pb2.GetCommentRequest, context: Context
    ) -> comments_pb2.GetCommentResponse:
        comment = await self.get_comment(uuid_of("comment_id", request.comment_id))
        return comments_pb2.GetCommentResponse(comment=comment_message(comment))

    async def ListComments(
        self, request: comments_pb2.ListCommentsRequest, context: Context
    ) -> comments_pb2.ListCommentsResponse:
        post_id = uuid_of("post_id", request.post_id) if request.HasField("post_id") else None
        page = await self.list_comments(list_query(request, CommentQuery, post_id=post_id))
        return comments_pb2.ListCommentsResponse(
            items=[comment_message(comment) for comment in page.items],
            total=page.total,
            limit=page.limit,
            offset=page.offset,
            next_cursor=page.next_cursor,
        )

    async def CreateComment(
        self, request: comments_pb2.CreateCommentRequest, context: Context
    ) -> comments_pb2.CreateCommentResponse:
        def created(comment: Comment) -> comments_pb2.CreateCommentResponse:
            return comments_pb2.CreateCommentResponse(comment=comment_message(comment))

        post_id = uuid_of("post_id", request.post_id)
        once = idempotent(context, "/blog.v1.CommentService/CreateComment", request, created)
        if once is None:
            return created(await self.create_comment(caller(), post_id, request.content))
        replayed = comments_pb2.CreateCommentResponse()  # the first call's answer, to it and to every retry
        replayed.ParseFromString((await self.create_comment(caller(), post_id, request.content, once)).body)
        return replayed

    async def UpdateComment(
        self, request: comments_pb2.UpdateCommentRequest, context: Context
    ) -> comments_pb2.UpdateCommentResponse:
        comment = await self.update_comment(
            caller(), uuid_of("comment_id", request.comment_id), request.content, expected_versions(request)
        )
        return comments_pb2.UpdateCommentResponse(comment=comment_message(comment))

    async def DeleteComment(
        self, request: comments_pb2.DeleteCommentRequest, context: Context
    ) -> comments_pb2.DeleteCommentResponse:
        await self.delete_comment(caller(), uuid_of("comment_id", request.comment_id))
        return comments_pb2.DeleteCommentResponse()


class UserService(users_pb2_grpc.UserServiceServicer):
    def __init__(self, container: Container) -> None:
        self.get_current_user = container[GetCurrentUser]
        self.get_user = container[GetUser]

    async def GetCurrentUser(
        self, request: users_pb2.GetCurrentUserRequest, context: Context
    ) -> users_pb2.GetCurrentUserResponse:
        return users_pb2.GetCurrentUserResponse(user=user_message(await self.get_current_user(caller())))

    async def GetUser(self, request: users_pb2.GetUserRequest, context: Context) -> users_pb2.GetUserResponse:
        return users_pb2.GetUserResponse(user=user_message(await self.get_user(uuid_of("user_id", request.user_id))))
