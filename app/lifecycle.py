"""The process's life: what starts before the first request and stops after the last one.

``running(container)`` is the app's lifespan (app/main.py): the database pool and pending
migrations, the background loops (the row-count fold, the purge of expired idempotency keys; the
Consul watch when CONSUL_URL is set), the key source, each optional integration that is configured
(its client and background task, in a function of its own below), and with several workers the
metrics' sampling. Everything started is stopped in reverse order, whatever fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from lagom import Container
from piccolo.engine.base import Engine

from adapters.auth.keys import DevKeys, KeySource
from adapters.db.idempotency import purge_forever
from adapters.db.lifecycle import close_database, migrate, open_database, set_request_timeout
from adapters.db.row_counts import fold_forever
from app.live_settings import SettingsStore, follow
from app.maintenance import MaintenanceGate
from app.metrics import Metrics
from app.readiness import Readiness
from app.settings import Settings
from app.tracing import Tracing
from domain.ports import Clock

log = logging.getLogger(__name__)


@asynccontextmanager
async def running(container: Container) -> AsyncIterator[None]:
    """Start what the app needs, and stop it in reverse order."""
    settings = container[Settings]
    engine = container[Engine]
    async with AsyncExitStack() as stack:
        stack.callback(container[Tracing].stop)  # last: exports the spans of the shutdown too
        await open_database(
            engine,
            pool_min=settings.db_pool_min,
            pool_max=settings.db_pool_max,
            statement_timeout_ms=settings.db_statement_timeout_ms,
            acquire_timeout_ms=settings.db_acquire_timeout_ms,
            request_timeout_ms=container[SettingsStore].current.db_request_timeout_ms,
        )
        container[SettingsStore].subscribe(
            lambda s: set_request_timeout(engine, s.db_request_timeout_ms), "DB_REQUEST_TIMEOUT_MS"
        )
        stack.push_async_callback(_close_database, engine, settings)
        if settings.auto_migrate:
            applied = await migrate(engine)
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
        # region: blog
        # Keeps the unfiltered listings' totals short sums (PostgreSQL; returns at once on SQLite).
        await stack.enter_async_context(_in_background(fold_forever(engine), "row-count-fold"))
        # endregion
        # Off the request path: a create with a key pays for its key, not for old ones (both engines).
        await stack.enter_async_context(_in_background(purge_forever(engine, container[Clock]), "idempotency-purge"))
        keys = container[KeySource]
        await keys.start()  # dev keys: read or generate; OIDC: discovery + JWKS, or an error naming the URL
        stack.push_async_callback(keys.close)
        if isinstance(keys, DevKeys):
            log.warning("dev auth is on: get a token with `uv run just token USERNAME [ROLE...]`")
        # region: openfga
        if settings.openfga_enabled:
            await _start_openfga(container, stack)
        # endregion
        # region: consul
        if settings.consul_url:
            await stack.enter_async_context(_watching_consul(container[SettingsStore], settings))
        # endregion
        if await container[MaintenanceGate].is_on():  # warms the cache before the first request
            log.warning("maintenance mode is on: `uv run just maintenance off` (or PATCH /v1/service-context)")
        if settings.metrics_enabled:
            metrics = container[Metrics]
            stack.callback(metrics.close)
            if metrics.multiprocess_dir is not None:  # the other workers' scrapes read this one's share
                await stack.enter_async_context(_in_background(metrics.sample_forever(), "metrics-sample"))
        # region: grpc
        if settings.grpc_port is not None:
            from app.grpc.server import serving  # grpcio and protobuf load only when configured

            await stack.enter_async_context(serving(container))
        # endregion
        yield


async def _close_database(engine: Engine, settings: Settings) -> None:  # type: ignore[type-arg]
    # Runs after the server has let in-flight requests finish; a connection still out after a
    # statement's worth of time is stuck, and is cut.
    await close_database(engine, timeout=settings.db_statement_timeout_ms / 1000 + 1)
    log.info("database pool closed")


# region: consul
@asynccontextmanager
async def _watching_consul(store: SettingsStore, settings: Settings) -> AsyncIterator[None]:
    """Reload from Consul in the background while the app runs (see app/live_settings.py)."""
    assert settings.consul_url is not None
    from adapters.config.consul import ConsulKV

    source = ConsulKV(settings.consul_url, settings.consul_token, settings.consul_prefix)
    store.declare_live("CONSUL_POLL_SECONDS", "CONSUL_TIMEOUT_SECONDS")  # follow() reads them per query
    try:
        async with _in_background(follow(store, source), "consul-settings"):
            yield
    finally:
        await source.aclose()


# endregion


@asynccontextmanager
async def _in_background(work: Coroutine[Any, Any, None], name: str) -> AsyncIterator[None]:
    """Run ``work`` as a task while the block runs; cancel it and wait for it at the end."""
    task = asyncio.create_task(work, name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# region: openfga
async def _start_openfga(container: Container, stack: AsyncExitStack) -> None:
    """The one OpenFGA client, the relay's background task and its line in /health/ready."""
    from adapters.authz.openfga import OpenFga
    from adapters.authz.relay import OutboxRelay

    fga = container[OpenFga]
    await fga.open()
    stack.push_async_callback(fga.close)
    relay = container[OutboxRelay]
    tracing = container[Tracing]
    if tracing.provider is not None:
        relay.batch_span = tracing.batch_span()
    readiness = container[Readiness]
    readiness.reporters.append(relay.report)
    stack.callback(readiness.reporters.remove, relay.report)
    await relay.start()
    stack.push_async_callback(relay.stop)


# endregion
