"""The app's gRPC server on a free loopback port, started by the app's own lifecycle (what the ASGI
lifespan runs), on an empty database of each engine; a real grpc.aio client talks to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import grpc
import pytest
from lagom import Container

from app import logging as app_logging
from app.lifecycle import running
from app.settings import Settings
from tests.support.grpc_client import GrpcClient
from tests.support.servers import free_port
from tests.support.tokens import TestKeys

type Serve = Callable[..., AbstractAsyncContextManager[GrpcClient]]


def grpc_settings(**settings: str) -> dict[str, str]:
    return {"GRPC_PORT": str(free_port()), "GRPC_HOST": "127.0.0.1", **settings}


@asynccontextmanager
async def served(container: Container, keys: TestKeys) -> AsyncIterator[GrpcClient]:
    """The app's lifecycle around a client of its gRPC port (logging configured as create_app does)."""
    app_logging.apply(container[Settings])
    port = container[Settings].grpc_port
    async with running(container), grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield GrpcClient(channel, keys, container)


@pytest.fixture
def serve(engine: Any, make_container: Callable[..., Container], keys: TestKeys) -> Serve:
    """``async with serve(SETTING="value") as rpc``: the app with those settings and a gRPC port."""
    return lambda **settings: served(make_container(**grpc_settings(**settings)), keys)


@pytest.fixture
async def rpc(serve: Serve) -> AsyncIterator[GrpcClient]:
    async with serve() as client:
        yield client
