"""A real grpc.aio client for the app's gRPC server: stubs of the three services, the caller's
metadata, and the status a failed call carried (code, message, field violations)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from app.grpc.gen.blog.v1 import comments_pb2_grpc, posts_pb2_grpc, users_pb2_grpc
from tests.support.tokens import TestKeys

type Metadata = tuple[tuple[str, str], ...]


class GrpcClient:
    def __init__(self, channel: grpc.aio.Channel, keys: TestKeys, container: Any = None) -> None:
        self.channel = channel
        self.keys = keys
        self.container = container  # the app's, to reach its parts (metrics, settings) in a test
        self.posts = posts_pb2_grpc.PostServiceStub(channel)
        self.comments = comments_pb2_grpc.CommentServiceStub(channel)
        self.users = users_pb2_grpc.UserServiceStub(channel)

    def auth(self, username: str = "alice", roles: tuple[str, ...] = (), **claims: Any) -> Metadata:
        return (("authorization", f"Bearer {self.keys.mint(username, roles, **claims)}"),)


class Failure:
    """What a failed call answered: its code, message and the rich status details (grpcio-status)."""

    def __init__(self, error: grpc.aio.AioRpcError) -> None:
        self.error = error
        self.code = error.code()
        self.message = error.details()
        self.status = rpc_status.from_call(error)  # checks the details agree with code and message

    def field_violations(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for detail in self.status.details if self.status else ():
            bad_request = error_details_pb2.BadRequest()
            if detail.Unpack(bad_request):
                found |= {v.field: v.description for v in bad_request.field_violations}
        return found

    def retry_seconds(self) -> int | None:
        for detail in self.status.details if self.status else ():
            retry = error_details_pb2.RetryInfo()
            if detail.Unpack(retry):
                return retry.retry_delay.seconds
        return None


async def fails(call: Awaitable[Any], code: grpc.StatusCode) -> Failure:
    """Await a call that must fail with ``code``."""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    failure = Failure(raised.value)
    assert failure.code == code, f"{failure.code}: {failure.message}"
    return failure
