"""The gRPC server: ``serving(container)`` runs it for as long as the app runs (GRPC_PORT set).

The app's lifecycle (app.lifecycle.running) enters it last, after the pool, the keys and the
maintenance cache are up, and leaves it first: health turns NOT_SERVING, new calls are refused,
calls in flight get ``GRACE_SECONDS`` to finish, then the pool closes behind them.

Every Granian worker runs one server on the same GRPC_PORT: grpc binds with SO_REUSEPORT, and the
kernel spreads new connections over the workers (a connection, and so a client's channel, stays
with one worker). The flip side: a second instance started on the same port by mistake shares it
silently instead of failing to bind.

Served: blog.v1 (app/grpc/servicers.py, behind app/grpc/interceptors.py), the standard health
service ``grpc.health.v1.Health`` answered from the readiness check (GET /health/ready's), and
server reflection, so that grpcurl-style tools work without the .proto files.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from lagom import Container

from app.grpc.gen.blog.v1 import comments_pb2, comments_pb2_grpc, posts_pb2, posts_pb2_grpc, users_pb2, users_pb2_grpc
from app.grpc.interceptors import CallObserver, Guard
from app.grpc.servicers import CommentService, PostService, UserService
from app.maintenance import MaintenanceGate
from app.metrics import Metrics
from app.readiness import Readiness
from app.settings import Settings
from app.tracing import Tracing
from domain.ports import TokenVerifier

log = logging.getLogger(__name__)

GRACE_SECONDS = 10.0  # inside Granian's --workers-kill-timeout (20 s), which bounds the whole shutdown
HEALTH_POLL_SECONDS = 5.0  # how often Watch streams see readiness change; Check always asks afresh
MAX_MESSAGE_BYTES = 1024 * 1024  # as HTTP's body limit; larger requests are RESOURCE_EXHAUSTED
SERVICES = tuple(
    module.DESCRIPTOR.services_by_name[name].full_name
    for module, name in ((posts_pb2, "PostService"), (comments_pb2, "CommentService"), (users_pb2, "UserService"))
)


class ReadinessHealth(HealthServicer):  # type: ignore[misc]  # grpcio-health-checking ships no type hints
    """grpc.health.v1.Health whose statuses follow the app's readiness (the database answers):
    SERVING or NOT_SERVING for the server ("") and each blog.v1 service alike."""

    def __init__(self, readiness: Readiness, services: Sequence[str]) -> None:
        super().__init__()
        self.readiness = readiness
        self.services = ("", *services)

    async def Check(self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext) -> object:
        if request.service in self.services:
            await self.refresh()
        return await super().Check(request, context)

    async def refresh(self) -> None:
        ready = (await self.readiness.check()).ok
        status = health_pb2.HealthCheckResponse.SERVING if ready else health_pb2.HealthCheckResponse.NOT_SERVING
        for service in self.services:
            await self.set(service, status)

    async def follow(self) -> None:
        while True:
            await asyncio.sleep(HEALTH_POLL_SECONDS)
            await self.refresh()


def build_server(container: Container) -> tuple[grpc.aio.Server, ReadinessHealth]:
    settings = container[Settings]
    server = grpc.aio.server(
        interceptors=[
            *container[Tracing].grpc_interceptors(),  # the call's server span, when tracing is on
            CallObserver(container[Metrics] if settings.metrics_enabled else None),
            Guard(container[MaintenanceGate], container[TokenVerifier]),  # type: ignore[type-abstract]
        ],
        options=[("grpc.so_reuseport", 1), ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)],
    )
    # The generated registration functions are untyped (grpcio-tools writes no hints for them).
    posts_pb2_grpc.add_PostServiceServicer_to_server(PostService(container), server)  # type: ignore[no-untyped-call]
    comments_pb2_grpc.add_CommentServiceServicer_to_server(CommentService(container), server)  # type: ignore[no-untyped-call]
    users_pb2_grpc.add_UserServiceServicer_to_server(UserService(container), server)  # type: ignore[no-untyped-call]
    health = ReadinessHealth(container[Readiness], SERVICES)
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    health_name = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
    reflection.enable_server_reflection((*SERVICES, health_name, reflection.SERVICE_NAME), server)
    return server, health


@asynccontextmanager
async def serving(container: Container) -> AsyncIterator[grpc.aio.Server]:
    settings = container[Settings]
    host = f"[{settings.grpc_host}]" if ":" in settings.grpc_host else settings.grpc_host
    address = f"{host}:{settings.grpc_port}"
    server, health = build_server(container)
    server.add_insecure_port(address)  # raises when the address cannot be bound
    await health.refresh()
    await server.start()
    follower = asyncio.create_task(health.follow(), name="grpc-health")
    log.info("gRPC server on %s", address)
    try:
        yield server
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        await health.enter_graceful_shutdown()
        await server.stop(GRACE_SECONDS)
        log.info("gRPC server stopped")
