"""The composition root: the only place where a port is bound to an adapter.

``build_container(settings, overrides)`` returns a lagom Container; ``create_app(container)``
(app/main.py) turns it into a Litestar app. Tests build the same container, passing
``overrides={Port: replacement}`` for what they replace (lagom refuses to redefine a type, so
overrides are bound first and the defaults fill in the rest).

Adding a use case: write the class in domain/use_cases/, add it to USE_CASES below, and
declare ``my_use_case: NamedDependency[MyUseCase]`` in a controller handler. The dependency
name is the class name in snake_case.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lagom import Container, Singleton
from litestar.di import Provide
from piccolo.engine.base import Engine

from adapters.auth.keycloak_events import KeycloakEvents
from adapters.auth.keys import DevKeys, KeySource
from adapters.auth.token_cache import CachingTokenVerifier
from adapters.auth.tokens import JwtVerifier, TokenVerifierConfig
from adapters.authz.builtin import BuiltinAuthorizer
from adapters.clock import SystemClock
from adapters.db.engine import make_engine
from adapters.db.lifecycle import close_database, migrate, open_database, pool_stats
from adapters.db.outbox import OutboxStore, PiccoloOutbox
from adapters.db.row_counts import fold_forever
from adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from app import logging as app_logging
from app.http.cors import CorsPolicy
from app.live_settings import SettingsStore, follow, warn_unknown_keys
from app.maintenance import MaintenanceGate
from app.metrics import Metrics
from app.readiness import Readiness
from app.settings import Layer, LoadedSettings, Settings, SettingsError, as_loaded, decode_settings, read_layers
from domain.errors import DependencyUnavailable
from domain.ports import Authorizer, Clock, TokenVerifier, UnitOfWorkFactory, UserEventSource
from domain.use_cases.comments import CreateComment, DeleteComment, GetComment, ListComments, UpdateComment
from domain.use_cases.posts import CreatePost, DeletePost, GetPost, ListPosts, UpdatePost
from domain.use_cases.service_context import GetServiceContext, SetMaintenance
from domain.use_cases.user_sync import SyncUser
from domain.use_cases.users import GetCurrentUser, GetUser

if TYPE_CHECKING:
    # Optional adapters are imported where they are built, and only when configured: OpenFGA's
    # SDK (with aiohttp), py-consul (with requests) and httpx (OIDC) would add ~20 MB and ~0.5 s
    # of start-up to every worker that does not use them.
    from adapters.authz.openfga import OpenFga, OpenFgaConfig
    from adapters.authz.relay import OutboxRelay, RelaySettings

log = logging.getLogger(__name__)

USE_CASES: list[type] = [
    GetCurrentUser,
    GetUser,
    CreatePost,
    GetPost,
    ListPosts,
    UpdatePost,
    DeletePost,
    CreateComment,
    GetComment,
    ListComments,
    UpdateComment,
    DeleteComment,
    SyncUser,
    GetServiceContext,
    SetMaintenance,
]


def verifier_config(settings: Settings) -> TokenVerifierConfig:
    return TokenVerifierConfig(
        audience=settings.oidc_audience,
        admin_role=settings.oidc_admin_role,
        leeway_seconds=settings.oidc_leeway_seconds,
    )


# What JwtVerifier.configure takes; a change to any of them reconfigures the verifier live.
VERIFIER_KEYS = ("OIDC_AUDIENCE", "OIDC_ADMIN_ROLE", "OIDC_LEEWAY_SECONDS")


def load_startup_settings(environ: Mapping[str, str] | None = None, dotenv: Path | None = None) -> LoadedSettings:
    """.env < environment < Consul KV (when CONSUL_URL is set), validated together.

    Consul is read before anything is validated, because some values may come only from it (in
    compose, the OpenFGA store and model ids). The read is bounded by CONSUL_TIMEOUT_SECONDS; if
    Consul does not answer, CONSUL_REQUIRED=true stops start-up, otherwise the service starts on
    the other sources with a warning and the reload watcher applies Consul once it answers.
    """
    layers = read_layers(environ, dotenv)
    consul_only: list[Layer] = [
        (source, {k: v for k, v in values.items() if k.startswith("CONSUL_")}) for source, values in layers
    ]
    wiring = decode_settings(consul_only).settings
    if wiring.consul_url is None:
        return decode_settings(layers)
    from adapters.config.consul import read_consul_now

    try:
        values = read_consul_now(
            wiring.consul_url, wiring.consul_token, wiring.consul_prefix, wiring.consul_timeout_seconds
        )
    except DependencyUnavailable as exc:
        if wiring.consul_required:
            raise SettingsError(f"CONSUL_REQUIRED=true and the settings could not be read: {exc}") from None
        log.warning("%s; using the environment and .env values until Consul answers", exc)
        return decode_settings(layers)
    log.info("settings from Consul (%s under %r): %s", wiring.consul_url, wiring.consul_prefix, ", ".join(values))
    warn_unknown_keys(values, f"Consul under {wiring.consul_prefix!r}")
    return decode_settings([*layers, ("consul", values)])


def openfga_config(settings: Settings) -> OpenFgaConfig:
    from adapters.authz.openfga import OpenFgaConfig

    url, store_id, model_id = settings.openfga_api_url, settings.openfga_store_id, settings.openfga_model_id
    if not (url and store_id and model_id):  # Settings.check() refuses this already; narrows the types
        raise SettingsError("OPENFGA_API_URL, OPENFGA_STORE_ID and OPENFGA_MODEL_ID must all be set")
    return OpenFgaConfig(
        api_url=url,
        store_id=store_id,
        model_id=model_id,
        api_token=settings.openfga_api_token,
        timeout_ms=settings.openfga_timeout_ms,
    )


# The relay's timing; a change to any of them reconfigures the running relay.
RELAY_KEYS = (
    "OUTBOX_POLL_SECONDS",
    "OUTBOX_BATCH_SIZE",
    "OUTBOX_BACKOFF_BASE_SECONDS",
    "OUTBOX_BACKOFF_MAX_SECONDS",
    "OUTBOX_LEASE_SECONDS",
    "OUTBOX_KEEP_DELIVERED_HOURS",
)


def relay_settings(settings: Settings) -> RelaySettings:
    from adapters.authz.relay import RelaySettings

    return RelaySettings(
        poll_seconds=settings.outbox_poll_seconds,
        batch_size=settings.outbox_batch_size,
        backoff_base_seconds=settings.outbox_backoff_base_seconds,
        backoff_max_seconds=settings.outbox_backoff_max_seconds,
        lease_seconds=settings.outbox_lease_seconds,
        keep_delivered_seconds=settings.outbox_keep_delivered_hours * 3600,
    )


def make_relay(settings: Settings, engine: Engine, fga: OpenFga, clock: Clock) -> OutboxRelay:  # type: ignore[type-arg]
    """The outbox relay, for the app's background task and for `just relay` alike."""
    from adapters.authz.openfga import OpenFgaTupleWriter
    from adapters.authz.relay import OutboxRelay

    return OutboxRelay(OutboxStore(engine), OpenFgaTupleWriter(fga), relay_settings(settings), clock)


def _openfga(c: Container) -> OpenFga:
    from adapters.authz.openfga import OpenFga

    store = c[SettingsStore]
    fga = OpenFga(openfga_config(store.current))
    # A new model version (deploy/openfga/bootstrap.sh writes its id to Consul) applies at once;
    # the API URL and store id need a restart. Settings.check() keeps all three set together.
    store.subscribe(lambda s: fga.use_model(s.openfga_model_id or fga.config.model_id), "OPENFGA_MODEL_ID")
    return fga


def _relay(c: Container) -> OutboxRelay:
    from adapters.authz.openfga import OpenFga

    store = c[SettingsStore]
    relay = make_relay(store.current, c[Engine], c[OpenFga], c[Clock])  # type: ignore[type-abstract]
    store.subscribe(lambda s: relay.configure(relay_settings(s)), *RELAY_KEYS)
    return relay


def key_source(settings: Settings) -> KeySource:
    """Keycloak's keys when OIDC_ISSUER is set; else the development key pair under VAR_DIR."""
    if settings.oidc_issuer is None:
        return DevKeys(Path(settings.var_dir))
    from adapters.auth.oidc import OidcKeySource

    return OidcKeySource(
        settings.oidc_issuer,
        timeout_seconds=settings.oidc_timeout_seconds,
        refetch_interval_seconds=settings.oidc_jwks_refetch_interval_seconds,
        refresh_seconds=settings.oidc_jwks_refresh_seconds,
        startup_attempts=settings.oidc_startup_attempts,
        startup_backoff_seconds=settings.oidc_startup_backoff_seconds,
    )


def build_container(settings: Settings | LoadedSettings, overrides: Mapping[Any, Any] | None = None) -> Container:
    loaded = settings if isinstance(settings, LoadedSettings) else as_loaded(settings)
    settings = loaded.settings
    container = Container()
    for dependency, replacement in (overrides or {}).items():
        container[dependency] = replacement

    def bind(dependency: Any, definition: Any) -> None:
        if dependency not in container.defined_types:
            container[dependency] = definition

    bind(SettingsStore, SettingsStore(loaded))
    bind(Settings, settings)  # as at start-up: for what is read once; live values come from SettingsStore
    bind(
        Engine,
        Singleton(lambda c: make_engine(settings.database_url, statement_timeout_ms=settings.db_statement_timeout_ms)),
    )
    bind(Clock, SystemClock())
    if settings.openfga_enabled:
        # Permissions in OpenFGA: the outbox is real, and a commit that recorded entries wakes the relay.
        from adapters.authz.openfga import OpenFga, OpenFgaAuthorizer
        from adapters.authz.relay import OutboxRelay

        bind(OpenFga, Singleton(_openfga))
        bind(Authorizer, Singleton(lambda c: OpenFgaAuthorizer(c[OpenFga])))
        bind(OutboxRelay, Singleton(_relay))
        bind(
            UnitOfWorkFactory,
            Singleton(
                lambda c: PiccoloUnitOfWorkFactory(
                    c[Engine], PiccoloOutbox(c[Clock]), on_outbox_commit=c[OutboxRelay].wake
                )
            ),
        )
    bind(UnitOfWorkFactory, Singleton(lambda c: PiccoloUnitOfWorkFactory(c[Engine])))
    bind(Authorizer, BuiltinAuthorizer())
    bind(KeySource, Singleton(lambda c: key_source(c[Settings])))
    bind(JwtVerifier, Singleton(_jwt_verifier))
    # Verified tokens are cached (bounded, never past exp, emptied on a new key set or configure()).
    bind(TokenVerifier, Singleton(lambda c: CachingTokenVerifier(c[JwtVerifier], c[KeySource])))
    bind(Readiness, Singleton(lambda c: Readiness(c[Engine])))
    bind(UserEventSource, Singleton(_user_events))
    for use_case in USE_CASES:
        bind(use_case, Singleton(use_case))
    bind(MaintenanceGate, Singleton(_maintenance_gate))
    bind(CorsPolicy, Singleton(_cors_policy))
    bind(Metrics, Singleton(_metrics))
    # The webhook secret is live: a new one is scrubbed from the logs as soon as it applies.
    container[SettingsStore].subscribe(app_logging.apply, "LOG_LEVEL", "LOG_FORMAT", "KEYCLOAK_WEBHOOK_SECRET")
    return container


def _user_events(c: Container) -> KeycloakEvents:
    store = c[SettingsStore]
    events = KeycloakEvents(store.current.keycloak_webhook_secret)
    store.subscribe(lambda s: events.configure(s.keycloak_webhook_secret), "KEYCLOAK_WEBHOOK_SECRET")
    return events


def _jwt_verifier(c: Container) -> JwtVerifier:
    store = c[SettingsStore]
    verifier = JwtVerifier(c[KeySource], verifier_config(store.current))  # type: ignore[type-abstract]
    store.subscribe(lambda s: verifier.configure(verifier_config(s)), *VERIFIER_KEYS)
    return verifier


def _metrics(c: Container) -> Metrics:
    """The process's metrics; gauges read at scrape time are registered here."""
    engine = c[Engine]  # type: ignore[type-abstract]
    found = Metrics()
    found.add_pool(lambda: pool_stats(engine))
    if c[Settings].openfga_enabled:
        outbox = OutboxStore(engine)

        async def backlog() -> float:
            return float((await outbox.backlog()).pending)

        found.add_gauge("outbox_backlog", "Permission changes waiting for delivery to OpenFGA", backlog)
    return found


def _maintenance_gate(c: Container) -> MaintenanceGate:
    get_service_context, store = c[GetServiceContext], c[SettingsStore]

    async def read() -> bool:
        return (await get_service_context()).maintenance

    gate = MaintenanceGate(read, ttl=store.current.maintenance_cache_seconds)
    store.subscribe(lambda s: setattr(gate, "ttl", s.maintenance_cache_seconds), "MAINTENANCE_CACHE_SECONDS")
    return gate


def _cors_policy(c: Container) -> CorsPolicy:
    store = c[SettingsStore]
    policy = CorsPolicy(store.current.cors_origin_list)
    store.subscribe(lambda s: policy.apply(s.cors_origin_list), "CORS_ORIGINS")
    return policy


def dependency_name(use_case: type) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", use_case.__name__).lower()


def litestar_dependencies(container: Container) -> dict[str, Provide]:
    """One Litestar dependency per use case, resolved once: use cases are stateless singletons."""
    provided: dict[str, Any] = {dependency_name(uc): container[uc] for uc in USE_CASES}
    provided["readiness"] = container[Readiness]
    provided["maintenance_gate"] = container[MaintenanceGate]
    return {name: Provide(_constant(value), use_cache=True, sync_to_thread=False) for name, value in provided.items()}


def _constant(value: Any) -> Any:
    def provide() -> Any:
        return value

    provide.__annotations__["return"] = type(value)
    return provide


async def _close_database(engine: Engine, settings: Settings) -> None:  # type: ignore[type-arg]
    # Runs after the server has let in-flight requests finish; a connection still out after a
    # statement's worth of time is stuck, and is cut.
    await close_database(engine, timeout=settings.db_statement_timeout_ms / 1000 + 1)
    log.info("database pool closed")


@asynccontextmanager
async def running(container: Container) -> AsyncIterator[None]:
    """Start what the app needs (pool, migrations, keys), and stop it in reverse order."""
    settings = container[Settings]
    engine = container[Engine]  # type: ignore[type-abstract]
    async with AsyncExitStack() as stack:
        await open_database(
            engine,
            pool_min=settings.db_pool_min,
            pool_max=settings.db_pool_max,
            statement_timeout_ms=settings.db_statement_timeout_ms,
            acquire_timeout_ms=settings.db_acquire_timeout_ms,
        )
        stack.push_async_callback(_close_database, engine, settings)
        if settings.auto_migrate:
            applied = await migrate(engine)
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
        # Keeps the unfiltered listings' totals short sums (PostgreSQL; returns at once on SQLite).
        await stack.enter_async_context(_in_background(fold_forever(engine), "row-count-fold"))
        keys = container[KeySource]  # type: ignore[type-abstract]
        await keys.start()  # dev keys: read or generate; OIDC: discovery + JWKS, or an error naming the URL
        stack.push_async_callback(keys.close)
        if isinstance(keys, DevKeys):
            log.warning("dev auth is on: get a token with `uv run just token USERNAME [ROLE...]`")
        if settings.openfga_enabled:
            await _start_openfga(container, stack)
        if settings.consul_url:
            await stack.enter_async_context(_watching_consul(container[SettingsStore], settings))
        if await container[MaintenanceGate].is_on():  # warms the cache before the first request
            log.warning("maintenance mode is on: `uv run just maintenance off` (or PATCH /v1/service-context)")
        yield


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


async def _start_openfga(container: Container, stack: AsyncExitStack) -> None:
    """The one OpenFGA client, the relay's background task and its line in /health/ready."""
    from adapters.authz.openfga import OpenFga
    from adapters.authz.relay import OutboxRelay

    fga = container[OpenFga]
    await fga.open()
    stack.push_async_callback(fga.close)
    relay = container[OutboxRelay]
    readiness = container[Readiness]
    readiness.reporters.append(relay.report)
    stack.callback(readiness.reporters.remove, relay.report)
    await relay.start()
    stack.push_async_callback(relay.stop)
