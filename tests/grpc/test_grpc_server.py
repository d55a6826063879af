"""What every gRPC call goes through (app/grpc/interceptors.py, server.py): authentication, maintenance
mode, malformed messages, deadlines, unexpected errors; health, reflection, request ids, the access
log and metrics. Over a real connection, on both engines."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from lagom import Singleton
from piccolo.engine.base import Engine

from adapters.auth.keys import KeySource
from adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from app.container import build_container
from app.grpc import server as grpc_server
from app.grpc.gen.blog.v1 import posts_pb2
from app.lifecycle import running
from app.maintenance import MaintenanceGate
from app.metrics import Metrics
from app.readiness import Readiness, ReadinessReport
from domain.ports import TokenVerifier, UnitOfWorkFactory
from domain.use_cases.posts import GetPost
from domain.use_cases.service_context import SetMaintenance
from tests.conftest import settings_for
from tests.grpc.conftest import grpc_settings, served
from tests.support.eventually import eventually
from tests.support.grpc_client import fails
from tests.support.tokens import TestKeys

Code = grpc.StatusCode
SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


def every_rpc() -> list[str]:
    """Every method of every blog.v1 service, read from the protos: an RPC added later is covered too."""
    from google.protobuf import descriptor_pool

    pool = descriptor_pool.Default()
    return [
        f"/{service}/{method.name}"
        for service in grpc_server.SERVICES
        for method in pool.FindServiceByName(service).methods
    ]


def raw_call(rpc, method: str, request: bytes, **kwargs: Any):
    """A call with the request as raw bytes (an empty message is b""), whatever the method's types."""
    return rpc.channel.unary_unary(method)(request, **kwargs)


# -- authentication -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        ((), "missing bearer token"),
        ((("authorization", "Basic dXNlcjpwYXNz"),), "malformed"),
        ((("authorization", "Bearer"),), "malformed"),
        ((("authorization", "Bearer not.a.jwt"),), "malformed"),
    ],
)
async def test_every_rpc_needs_a_bearer_token(rpc, metadata, reason):
    assert {"/blog.v1.PostService/GetPost", "/blog.v1.UserService/GetCurrentUser"} <= set(every_rpc())
    for method in every_rpc():
        failure = await fails(raw_call(rpc, method, b"", metadata=metadata), Code.UNAUTHENTICATED)
        assert reason in failure.message, method


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp_in": -120}, "expired"),
        ({"iss": "https://evil.test/realms/test"}, "issuer"),
        ({"typ": "Refresh"}, "Refresh"),
    ],
)
async def test_untrusted_tokens_are_unauthenticated_with_the_reason(rpc, claims, reason):
    failure = await fails(
        raw_call(rpc, "/blog.v1.UserService/GetCurrentUser", b"", metadata=rpc.auth(**claims)), Code.UNAUTHENTICATED
    )
    assert reason in failure.message
    assert "eyJ" not in failure.message, "the token is never echoed"


async def test_a_token_signed_by_another_key_is_refused(rpc):
    stranger = TestKeys().mint("alice")
    failure = await fails(
        raw_call(rpc, "/blog.v1.UserService/GetCurrentUser", b"", metadata=(("authorization", f"Bearer {stranger}"),)),
        Code.UNAUTHENTICATED,
    )
    assert "unknown key" in failure.message


async def test_two_authorization_values_are_invalid_argument(rpc):
    metadata = rpc.auth("alice") + rpc.auth("root", ("admin",))
    failure = await fails(
        raw_call(rpc, "/blog.v1.UserService/GetCurrentUser", b"", metadata=metadata), Code.INVALID_ARGUMENT
    )
    assert list(failure.field_violations()) == ["authorization"]


async def test_tokens_go_through_the_apps_verifier_and_its_cache(rpc):
    verifier = rpc.container[TokenVerifier]
    metadata = rpc.auth("alice")
    before = len(verifier)
    for _ in range(2):
        await raw_call(rpc, "/blog.v1.UserService/GetCurrentUser", b"", metadata=metadata)
    assert len(verifier) == before + 1, "verified once, then answered from the cache"


# -- maintenance ----------------------------------------------------------------------------------
async def test_maintenance_mode_makes_every_rpc_unavailable_but_health_and_reflection_answer(serve):
    async with serve(MAINTENANCE_CACHE_SECONDS="0") as rpc:
        await rpc.container[SetMaintenance].by_operator(True)  # what `just maintenance on` does
        for method in every_rpc():
            failure = await fails(raw_call(rpc, method, b"", metadata=rpc.auth()), Code.UNAVAILABLE)
            assert "maintenance" in failure.message
            assert failure.retry_seconds() == 5
        failure = await fails(raw_call(rpc, "/blog.v1.PostService/ListPosts", b""), Code.UNAVAILABLE)
        assert "maintenance" in failure.message, "maintenance is told before the token is checked"
        health = await health_pb2_grpc.HealthStub(rpc.channel).Check(health_pb2.HealthCheckRequest())
        assert health.status == SERVING
        assert "blog.v1.PostService" in await listed_services(rpc)

        await rpc.container[SetMaintenance].by_operator(False)
        assert (await raw_call(rpc, "/blog.v1.PostService/ListPosts", b"", metadata=rpc.auth())) is not None
        assert await rpc.container[MaintenanceGate].is_on() is False


# -- bad messages and deadlines -------------------------------------------------------------------
@pytest.mark.parametrize(
    "payload",
    [
        b"\xff\xff\xff\xff",  # not protobuf at all
        b"\x0a\x05hello\x0a",  # truncated: a length-delimited field without its length
        b"\x0a\x02\xff\xfe",  # content is a string field: these bytes are not UTF-8
    ],
)
async def test_a_malformed_message_is_invalid_argument_and_creates_nothing(rpc, payload):
    failure = await fails(
        raw_call(rpc, "/blog.v1.PostService/CreatePost", payload, metadata=rpc.auth()), Code.INVALID_ARGUMENT
    )
    assert "CreatePost" in failure.message
    assert list(failure.field_violations()) == ["request"]
    assert (await rpc.posts.ListPosts(posts_pb2.ListPostsRequest(), metadata=rpc.auth())).total == 0


async def test_a_message_over_one_mebibyte_is_refused_by_grpc(rpc):
    request = posts_pb2.CreatePostRequest(content="x" * (1024 * 1024))
    await fails(rpc.posts.CreatePost(request, metadata=rpc.auth()), Code.RESOURCE_EXHAUSTED)


class HeldUnitsOfWork:
    """The app's unit-of-work factory, except that a writing unit of work waits for ``release``
    before it begins: a call that is slow exactly where a write would be."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.waiting = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = False

    def __call__(self, *, read_only: bool = False) -> Any:
        return self.inner(read_only=True) if read_only else _Held(self, self.inner())


class _Held:
    def __init__(self, factory: HeldUnitsOfWork, uow: Any) -> None:
        self.factory, self.uow = factory, uow

    async def __aenter__(self) -> Any:
        self.factory.waiting.set()
        try:
            await self.factory.release.wait()
        except asyncio.CancelledError:
            self.factory.cancelled = True
            raise
        return await self.uow.__aenter__()

    async def __aexit__(self, *exc: Any) -> None:
        await self.uow.__aexit__(*exc)


async def test_an_expired_deadline_stops_the_call_and_changes_nothing(engine, db_url, tmp_path, keys, capsys):
    held: list[HeldUnitsOfWork] = []

    def factory(c: Any) -> HeldUnitsOfWork:
        held.append(HeldUnitsOfWork(PiccoloUnitOfWorkFactory(c[Engine])))
        return held[0]

    settings = settings_for(db_url, tmp_path, **grpc_settings(LOG_FORMAT="json"))
    container = build_container(settings, overrides={KeySource: keys, UnitOfWorkFactory: Singleton(factory)})
    async with served(container, keys) as rpc:
        create = rpc.posts.CreatePost(
            posts_pb2.CreatePostRequest(content="too late"),
            metadata=(*rpc.auth(), ("x-request-id", "slow-one")),
            timeout=0.5,
        )
        await fails(create, Code.DEADLINE_EXCEEDED)
        await eventually(lambda: held[0].cancelled, "the server to cancel the call at the deadline")
        held[0].release.set()
        assert (await rpc.posts.ListPosts(posts_pb2.ListPostsRequest(), metadata=rpc.auth())).total == 0
    lines = access_lines(capsys.readouterr().out, "slow-one")
    assert [(line["method"], line["code"]) for line in lines] == [
        ("/blog.v1.PostService/CreatePost", "DEADLINE_EXCEEDED")
    ]


async def test_an_unexpected_error_is_internal_with_no_detail_never_unknown(engine, db_url, tmp_path, keys):
    class Exploding:
        async def __call__(self, post_id: Any) -> Any:
            raise RuntimeError("secret internals")

    settings = settings_for(db_url, tmp_path, **grpc_settings())
    container = build_container(settings, overrides={KeySource: keys, GetPost: Exploding()})
    async with served(container, keys) as rpc:
        request = posts_pb2.GetPostRequest(post_id="00000000-0000-0000-0000-000000000001")
        failure = await fails(rpc.posts.GetPost(request, metadata=rpc.auth()), Code.INTERNAL)
    assert failure.message == "an unexpected error occurred; it has been logged"


async def test_an_unknown_method_is_unimplemented(rpc):
    await fails(raw_call(rpc, "/blog.v1.PostService/PublishPost", b"", metadata=rpc.auth()), Code.UNIMPLEMENTED)


# -- health and reflection ------------------------------------------------------------------------
async def test_health_follows_readiness(rpc, monkeypatch):
    health = health_pb2_grpc.HealthStub(rpc.channel)

    for service in ("", *grpc_server.SERVICES):
        assert (await health.Check(health_pb2.HealthCheckRequest(service=service))).status == SERVING
    await fails(health.Check(health_pb2.HealthCheckRequest(service="blog.v1.NoSuchService")), Code.NOT_FOUND)

    async def database_down() -> ReadinessReport:
        return ReadinessReport(ok=False, reason="the database is unreachable")

    monkeypatch.setattr(rpc.container[Readiness], "check", database_down)
    assert (await health.Check(health_pb2.HealthCheckRequest())).status == NOT_SERVING
    assert (await health.Check(health_pb2.HealthCheckRequest(service="blog.v1.PostService"))).status == NOT_SERVING


async def test_health_watchers_see_readiness_change(serve, monkeypatch):
    monkeypatch.setattr(grpc_server, "HEALTH_POLL_SECONDS", 0.05)
    async with serve() as rpc:
        watch = health_pb2_grpc.HealthStub(rpc.channel).Watch(
            health_pb2.HealthCheckRequest(service="blog.v1.PostService")
        )
        assert (await watch.read()).status == SERVING

        async def database_down() -> ReadinessReport:
            return ReadinessReport(ok=False)

        monkeypatch.setattr(rpc.container[Readiness], "check", database_down)
        changed = await asyncio.wait_for(watch.read(), 10)
        assert changed.status == NOT_SERVING
        watch.cancel()


async def listed_services(rpc) -> set[str]:
    stub = reflection_pb2_grpc.ServerReflectionStub(rpc.channel)
    async for answer in stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])):
        return {service.name for service in answer.list_services_response.service}
    raise AssertionError("no answer")


async def test_reflection_lists_the_services_and_serves_their_descriptors(rpc):
    assert await listed_services(rpc) == {
        "blog.v1.PostService",
        "blog.v1.CommentService",
        "blog.v1.UserService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }
    from google.protobuf import descriptor_pb2

    stub = reflection_pb2_grpc.ServerReflectionStub(rpc.channel)
    request = reflection_pb2.ServerReflectionRequest(file_containing_symbol="blog.v1.PostService")
    async for answer in stub.ServerReflectionInfo(iter([request])):
        files = [
            descriptor_pb2.FileDescriptorProto.FromString(raw)
            for raw in answer.file_descriptor_response.file_descriptor_proto
        ]
        break
    posts = next(f for f in files if f.name == "blog/v1/posts.proto")
    assert [m.name for m in posts.service[0].method] == [
        "GetPost",
        "ListPosts",
        "CreatePost",
        "UpdatePost",
        "DeletePost",
    ]


# -- request ids, access log, metrics -------------------------------------------------------------
def access_lines(captured: str, request_id: str | None = None) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in captured.splitlines() if line.startswith("{")]
    return [e for e in lines if e.get("event") == "rpc" and (request_id is None or e["request_id"] == request_id)]


async def test_request_ids_are_echoed_or_replaced_and_every_call_has_one_access_line(serve, capsys):
    async with serve(LOG_FORMAT="json") as rpc:
        capsys.readouterr()
        request = posts_pb2.GetPostRequest(post_id="00000000-0000-0000-0000-000000000001")
        call = rpc.posts.GetPost(request, metadata=(*rpc.auth(), ("x-request-id", "req-42.a:b")))
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call
        assert ("x-request-id", "req-42.a:b") in tuple(raised.value.trailing_metadata())

        call = rpc.channel.unary_unary("/blog.v1.UserService/GetCurrentUser")(
            b"", metadata=(*rpc.auth(), ("x-request-id", "has space"))
        )
        await call
        replaced = dict(await call.trailing_metadata())["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", replaced)

    lines = access_lines(capsys.readouterr().out)
    assert [(e["method"], e["code"], e["request_id"]) for e in lines] == [
        ("/blog.v1.PostService/GetPost", "NOT_FOUND", "req-42.a:b"),
        ("/blog.v1.UserService/GetCurrentUser", "OK", replaced),
    ]
    assert all(e["logger"] == "app.access" and e["duration_ms"] >= 0 for e in lines)


async def test_metrics_count_calls_by_service_method_and_code(serve):
    async with serve(METRICS_ENABLED="true") as rpc:
        for _ in range(2):
            await fails(raw_call(rpc, "/blog.v1.PostService/GetPost", b"", metadata=rpc.auth()), Code.INVALID_ARGUMENT)
        await raw_call(rpc, "/blog.v1.PostService/ListPosts", b"", metadata=rpc.auth())
        registry = rpc.container[Metrics].registry

    def handled(method: str, code: str) -> float | None:
        labels = {"grpc_service": "blog.v1.PostService", "grpc_method": method, "grpc_code": code}
        return registry.get_sample_value("grpc_server_handled_total", labels)

    assert handled("GetPost", "INVALID_ARGUMENT") == 2
    assert handled("ListPosts", "OK") == 1
    latency = {"grpc_service": "blog.v1.PostService", "grpc_method": "ListPosts", "grpc_code": "OK"}
    assert registry.get_sample_value("grpc_server_handling_seconds_count", latency) == 1


async def test_a_port_that_cannot_be_bound_stops_start_up(engine, make_container, keys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        container = make_container(GRPC_PORT=str(port), GRPC_HOST="127.0.0.1")
        with pytest.raises(RuntimeError, match=f"127.0.0.1:{port}"):
            async with running(container):
                pytest.fail("started on a port another socket holds")
