"""How each adapter (and each of the app's own services) is built from the settings, and which
settings reconfigure it while running.

The composition root (app/container.py) calls these; the CLI builds some with them too. A
setting is live when its object subscribes to it here, in the line next to where it is built
(``store.subscribe(applier, "KEY", ...)``, see app/live_settings.py); every other key needs a restart.

Optional adapters are imported where they are built, and only when configured: an integration's
client library (with its HTTP client) and httpx (OIDC) would add ~20 MB and ~0.5 s of start-up to
every worker that does not use them (tests/integration/test_startup_weight.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from piccolo.engine.base import Engine

from adapters.auth.keycloak_events import KeycloakEvents
from adapters.auth.keys import DevKeys, KeySource
from adapters.auth.token_cache import CachingTokenVerifier
from adapters.auth.tokens import JwtVerifier, TokenVerifierConfig
from adapters.db.lifecycle import pool_stats
from app.http.admission import Admission
from app.http.cors import CorsPolicy
from app.live_settings import SettingsStore
from app.maintenance import MaintenanceGate
from app.metrics import Metrics
from app.settings import Settings, SettingsError
from domain.ports import Clock, TokenVerifier
from domain.use_cases.service_context import GetServiceContext

# region: openfga
if TYPE_CHECKING:
    from adapters.authz.openfga import OpenFga, OpenFgaConfig
    from adapters.authz.relay import OutboxRelay, RelaySettings
# endregion

# What JwtVerifier.configure takes; a change to any of them reconfigures the verifier live.
VERIFIER_KEYS = ("OIDC_AUDIENCE", "OIDC_ADMIN_ROLE", "OIDC_LEEWAY_SECONDS")
# region: openfga
# The relay's timing; a change to any of them reconfigures the running relay.
RELAY_KEYS = (
    "OUTBOX_POLL_SECONDS",
    "OUTBOX_BATCH_SIZE",
    "OUTBOX_BACKOFF_BASE_SECONDS",
    "OUTBOX_BACKOFF_MAX_SECONDS",
    "OUTBOX_LEASE_SECONDS",
    "OUTBOX_KEEP_DELIVERED_HOURS",
)
# endregion


def verifier_config(settings: Settings) -> TokenVerifierConfig:
    return TokenVerifierConfig(
        audience=settings.oidc_audience,
        admin_role=settings.oidc_admin_role,
        leeway_seconds=settings.oidc_leeway_seconds,
    )


def jwt_verifier(store: SettingsStore, keys: KeySource) -> JwtVerifier:
    verifier = JwtVerifier(keys, verifier_config(store.current))
    store.subscribe(lambda s: verifier.configure(verifier_config(s)), *VERIFIER_KEYS)
    return verifier


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


# region: webhook
def user_events(store: SettingsStore) -> KeycloakEvents:
    events = KeycloakEvents(store.current.keycloak_webhook_secret)
    store.subscribe(lambda s: events.configure(s.keycloak_webhook_secret), "KEYCLOAK_WEBHOOK_SECRET")
    return events


# endregion
# region: openfga
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


def openfga(store: SettingsStore) -> OpenFga:
    from adapters.authz.openfga import OpenFga

    fga = OpenFga(openfga_config(store.current))
    # A new model version (deploy/openfga/bootstrap.sh writes its id to Consul) applies at once;
    # the API URL and store id need a restart. Settings.check() keeps all three set together.
    store.subscribe(lambda s: fga.use_model(s.openfga_model_id or fga.config.model_id), "OPENFGA_MODEL_ID")
    return fga


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
    from adapters.db.outbox import OutboxStore

    return OutboxRelay(OutboxStore(engine), OpenFgaTupleWriter(fga), relay_settings(settings), clock)


def relay(store: SettingsStore, engine: Engine, fga: OpenFga, clock: Clock) -> OutboxRelay:  # type: ignore[type-arg]
    running = make_relay(store.current, engine, fga, clock)
    store.subscribe(lambda s: running.configure(relay_settings(s)), *RELAY_KEYS)
    return running


# endregion


def metrics(settings: Settings, engine: Engine, verifier: TokenVerifier) -> Metrics:  # type: ignore[type-arg]
    """The process's metrics; gauges read at scrape time are registered here. With
    PROMETHEUS_MULTIPROC_DIR set (app/serve.sh sets it), they add up over the workers (app/metrics.py)."""
    found = Metrics(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None)
    found.add_pool(lambda: pool_stats(engine))
    if isinstance(verifier, CachingTokenVerifier):
        cache = verifier
        found.add_token_cache(lambda: (cache.hits, cache.misses))
    # region: openfga
    if settings.openfga_enabled:
        from adapters.db.outbox import OutboxStore

        outbox = OutboxStore(engine)

        async def backlog() -> float:
            return float((await outbox.backlog()).pending)

        found.add_gauge("outbox_backlog", "Permission changes waiting for delivery to OpenFGA", backlog)
    # endregion
    return found


def maintenance_gate(store: SettingsStore, get_service_context: GetServiceContext) -> MaintenanceGate:
    async def read() -> bool:
        return (await get_service_context()).maintenance

    gate = MaintenanceGate(read, ttl=store.current.maintenance_cache_seconds)
    store.subscribe(lambda s: setattr(gate, "ttl", s.maintenance_cache_seconds), "MAINTENANCE_CACHE_SECONDS")
    return gate


def admission(store: SettingsStore) -> Admission:
    """This worker's request slots (app/http/admission.py), resized live."""

    def bounds(settings: Settings) -> tuple[int, float]:
        return settings.admission_max_in_flight, settings.admission_max_wait_ms / 1000

    slots = Admission(*bounds(store.current))
    store.subscribe(lambda s: slots.configure(*bounds(s)), "ADMISSION_MAX_IN_FLIGHT", "ADMISSION_MAX_WAIT_MS")
    return slots


def cors_policy(store: SettingsStore) -> CorsPolicy:
    policy = CorsPolicy(store.current.cors_origin_list)
    store.subscribe(lambda s: policy.apply(s.cors_origin_list), "CORS_ORIGINS")
    return policy
