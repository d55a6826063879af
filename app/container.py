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

import logging
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lagom import Container, Singleton
from litestar.di import Provide
from piccolo.engine.base import Engine

from adapters.auth.keys import DevKeys, KeySource
from adapters.auth.token_cache import CachingTokenVerifier
from adapters.auth.tokens import JwtVerifier, TokenVerifierConfig
from adapters.authz.builtin import BuiltinAuthorizer
from adapters.db.engine import make_engine
from adapters.db.lifecycle import close_database, migrate, open_database
from adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from app.readiness import Readiness
from app.settings import Settings
from domain.ports import Authorizer, Clock, TokenVerifier, UnitOfWorkFactory
from domain.use_cases.comments import CreateComment, DeleteComment, GetComment, ListComments, UpdateComment
from domain.use_cases.posts import CreatePost, DeletePost, GetPost, ListPosts, UpdatePost
from domain.use_cases.users import GetCurrentUser, GetUser

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
]


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def verifier_config(settings: Settings) -> TokenVerifierConfig:
    return TokenVerifierConfig(
        audience=settings.oidc_audience,
        admin_role=settings.oidc_admin_role,
        leeway_seconds=settings.oidc_leeway_seconds,
    )


def build_container(settings: Settings, overrides: Mapping[Any, Any] | None = None) -> Container:
    container = Container()
    for dependency, replacement in (overrides or {}).items():
        container[dependency] = replacement

    def bind(dependency: Any, definition: Any) -> None:
        if dependency not in container.defined_types:
            container[dependency] = definition

    bind(Settings, settings)
    bind(
        Engine,
        Singleton(lambda c: make_engine(settings.database_url, statement_timeout_ms=settings.db_statement_timeout_ms)),
    )
    bind(Clock, SystemClock())
    bind(UnitOfWorkFactory, Singleton(lambda c: PiccoloUnitOfWorkFactory(c[Engine])))
    bind(Authorizer, BuiltinAuthorizer())
    bind(KeySource, Singleton(lambda c: DevKeys(Path(settings.var_dir))))
    bind(JwtVerifier, Singleton(lambda c: JwtVerifier(c[KeySource], verifier_config(c[Settings]))))
    # Verified tokens are cached (bounded, never past exp, emptied on a new key set or configure()).
    bind(TokenVerifier, Singleton(lambda c: CachingTokenVerifier(c[JwtVerifier], c[KeySource])))
    bind(Readiness, Singleton(lambda c: Readiness(c[Engine])))
    for use_case in USE_CASES:
        bind(use_case, Singleton(use_case))
    return container


def dependency_name(use_case: type) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", use_case.__name__).lower()


def litestar_dependencies(container: Container) -> dict[str, Provide]:
    """One Litestar dependency per use case, resolved once: use cases are stateless singletons."""
    provided: dict[str, Any] = {dependency_name(uc): container[uc] for uc in USE_CASES}
    provided["readiness"] = container[Readiness]
    return {name: Provide(_constant(value), use_cache=True, sync_to_thread=False) for name, value in provided.items()}


def _constant(value: Any) -> Any:
    def provide() -> Any:
        return value

    provide.__annotations__["return"] = type(value)
    return provide


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
        stack.push_async_callback(close_database, engine)
        if settings.auto_migrate:
            applied = await migrate(engine)
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
        keys = container[KeySource]  # type: ignore[type-abstract]
        if isinstance(keys, DevKeys):
            keys.load()
            log.warning("dev auth is on: get a token with `uv run just token USERNAME [ROLE...]`")
        yield
