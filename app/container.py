"""The composition root: each port bound to its adapter, chosen from the settings. Nothing else.

``build_container(settings, overrides)`` returns the lagom Container that ``create_app(container)``
(app/main.py) serves; tests pass ``overrides={Port: replacement}``. Use cases are not listed: lagom
builds each from its constructor's types when a handler first declares it
(app/http/dependencies.py). How an adapter is built and kept in step with live settings is in
app/factories.py; the process's start and stop in app/lifecycle.py; the settings it starts with in
app/startup_settings.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from lagom import Container, Singleton
from piccolo.engine.base import Engine

from adapters.auth.keys import KeySource
from adapters.auth.token_cache import CachingTokenVerifier
from adapters.auth.tokens import JwtVerifier
from adapters.authz.builtin import BuiltinAuthorizer
from adapters.clock import SystemClock
from adapters.db.comments import PiccoloCommentReader, PiccoloCommentRepository
from adapters.db.engine import make_engine
from adapters.db.idempotency import PiccoloIdempotencyKeys
from adapters.db.lifecycle import ping
from adapters.db.posts import PiccoloPostReader, PiccoloPostRepository
from adapters.db.service_context import PiccoloServiceContextRepository
from adapters.db.sharing import PiccoloGroupRepository, PiccoloSharingRepository
from adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from adapters.db.users import PiccoloUserRepository
from app import factories
from app import logging as app_logging
from app.http.admission import Admission
from app.http.cors import CorsPolicy
from app.live_settings import SettingsStore
from app.maintenance import MaintenanceGate
from app.metrics import Metrics
from app.readiness import Readiness
from app.settings import Settings
from app.settings_layers import LoadedSettings, as_loaded
from app.tracing import Tracing
from domain.comments import CommentReader, CommentRepository
from domain.ports import Authorizer, Clock, IdempotencyKeys, TokenVerifier, UnitOfWorkFactory
from domain.posts import PostReader, PostRepository
from domain.service_context import ServiceContextRepository
from domain.sharing import GroupRepository, SharingRepository
from domain.use_cases.service_context import GetServiceContext
from domain.users import UserEventSource, UserRepository


def build_container(settings: Settings | LoadedSettings, overrides: Mapping[Any, Any] | None = None) -> Container:
    loaded = settings if isinstance(settings, LoadedSettings) else as_loaded(settings)
    settings = loaded.settings
    bindings: dict[Any, Any] = {
        SettingsStore: SettingsStore(loaded),
        Settings: settings,  # as at start-up: for what is read once; live values come from SettingsStore
        Clock: SystemClock(),
        Engine: Singleton(
            lambda c: make_engine(settings.database_url, statement_timeout_ms=settings.db_statement_timeout_ms)
        ),
        # Stateless: their statements join the unit of work open in the caller's task, if any.
        UserRepository: Singleton(PiccoloUserRepository),
        # region: blog
        PostRepository: Singleton(PiccoloPostRepository),
        PostReader: Singleton(PiccoloPostReader),
        CommentRepository: Singleton(PiccoloCommentRepository),
        CommentReader: Singleton(PiccoloCommentReader),
        # endregion
        ServiceContextRepository: Singleton(PiccoloServiceContextRepository),
        # region: blog
        SharingRepository: Singleton(PiccoloSharingRepository),
        GroupRepository: Singleton(PiccoloGroupRepository),
        # endregion
        IdempotencyKeys: Singleton(PiccoloIdempotencyKeys),
        # `just new-resource` binds a new resource's repository and reader above this line.
        # region: blog
        # Permissions from our own rows (owners, shares, memberships).
        Authorizer: Singleton(
            lambda c: BuiltinAuthorizer(PiccoloPostRepository(c[Engine]), PiccoloSharingRepository(c[Engine]))
        ),
        # endregion
        # A unit of work is one transaction.
        UnitOfWorkFactory: Singleton(lambda c: PiccoloUnitOfWorkFactory(c[Engine])),
        # The caller: verified tokens are cached (bounded, never past exp, emptied on a new key set).
        KeySource: Singleton(lambda c: factories.key_source(c[Settings])),
        JwtVerifier: Singleton(lambda c: factories.jwt_verifier(c[SettingsStore], c[KeySource])),
        TokenVerifier: Singleton(lambda c: CachingTokenVerifier(c[JwtVerifier], c[KeySource])),
        # region: webhook
        UserEventSource: Singleton(lambda c: factories.user_events(c[SettingsStore])),
        # endregion
        # The app's own services.
        Readiness: Singleton(lambda c: Readiness(partial(ping, c[Engine]))),
        MaintenanceGate: Singleton(lambda c: factories.maintenance_gate(c[SettingsStore], c[GetServiceContext])),
        CorsPolicy: Singleton(lambda c: factories.cors_policy(c[SettingsStore])),
        Admission: Singleton(lambda c: factories.admission(c[SettingsStore])),
        Tracing: Singleton(lambda c: Tracing.from_environ()),
        Metrics: Singleton(lambda c: factories.metrics(c[Settings], c[Engine], c[TokenVerifier])),
    }
    # region: openfga
    if settings.openfga_enabled:  # permissions in OpenFGA instead, fed by the outbox and its relay
        from adapters.authz.openfga import OpenFga, OpenFgaAuthorizer
        from adapters.authz.relay import OutboxRelay
        from adapters.db.outbox import PiccoloOutbox

        bindings |= {
            OpenFga: Singleton(lambda c: factories.openfga(c[SettingsStore])),
            # region: blog
            Authorizer: Singleton(lambda c: OpenFgaAuthorizer(c[OpenFga])),
            # endregion
            OutboxRelay: Singleton(lambda c: factories.relay(c[SettingsStore], c[Engine], c[OpenFga], c[Clock])),
            # A commit that recorded outbox entries wakes the relay.
            UnitOfWorkFactory: Singleton(
                lambda c: PiccoloUnitOfWorkFactory(
                    c[Engine], PiccoloOutbox(c[Clock]), on_outbox_commit=c[OutboxRelay].wake
                )
            ),
        }
    # endregion
    bindings |= overrides or {}  # lagom refuses to bind a type twice: replacements go in before
    container = Container()
    for dependency, definition in bindings.items():
        container[dependency] = definition
    logged = ["LOG_LEVEL", "LOG_FORMAT"]
    # region: webhook
    logged.append("KEYCLOAK_WEBHOOK_SECRET")  # live: a new secret is scrubbed from the logs as soon as it applies
    # endregion
    container[SettingsStore].subscribe(app_logging.apply, *logged)
    return container
