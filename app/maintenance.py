"""Maintenance mode on the request path: a per-process cache of the database flag, and the guard
that answers 503 while it is on.

The flag lives in the database (domain/use_cases/service_context.py) so that every instance
agrees; reading it on every request would cost a query each, so each process keeps the last value
for ``MAINTENANCE_CACHE_SECONDS``. A change made anywhere is therefore seen everywhere within that
bound (plus one query's time). Routes that must keep working during maintenance carry
``opt={EXEMPT: True}`` (health, docs, metrics, /v1/service-context, the webhook): the guard then
costs one dict lookup.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from domain.errors import MaintenanceMode

log = logging.getLogger(__name__)

EXEMPT = "maintenance_exempt"
# Exempt by path as well, whoever declares the handler: Keycloak's user sync keeps working.
EXEMPT_PATHS: frozenset[str] = frozenset(
    [
        # region: webhook
        "/v1/authentication/webhook/events-synchronization",
        # endregion
    ]
)
# A refresh that takes longer than this keeps the last known value (the database is slow or down).
# Requests wait for it, and then do their own database work within DB_REQUEST_TIMEOUT_MS: half a
# second keeps a request's answer within that budget plus one second, even with a frozen database.
REFRESH_TIMEOUT_SECONDS = 0.5


class MaintenanceGate:
    """The maintenance flag, cached per process with a TTL.

    Refreshes are single-flight: when the value is stale, the first caller starts one read and
    every concurrent caller awaits that same read. If the read fails or times out, the last known
    value stays (for another TTL) rather than failing the request or flapping. ``ttl`` may be
    changed while running (MAINTENANCE_CACHE_SECONDS: app.factories.maintenance_gate subscribes it).
    """

    def __init__(
        self,
        read: Callable[[], Awaitable[bool]],
        ttl: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        refresh_timeout: float = REFRESH_TIMEOUT_SECONDS,
    ) -> None:
        self.ttl = ttl
        self._read = read
        self._clock = clock
        self._refresh_timeout = refresh_timeout
        self._value = False
        self._expires = float("-inf")
        self._refreshing: asyncio.Future[bool] | None = None
        self._failing = False

    async def is_on(self) -> bool:
        if self._clock() < self._expires:
            return self._value
        refreshing = self._refreshing
        if refreshing is None:
            refreshing = self._refreshing = asyncio.ensure_future(self._refresh())
        # shield: a caller that goes away (client disconnect) must not cancel everybody's read.
        return await asyncio.shield(refreshing)

    async def ensure_off(self) -> None:
        """Raise ``MaintenanceMode`` while maintenance mode is on (what HTTP and gRPC answer with)."""
        if await self.is_on():
            raise MaintenanceMode("the service is down for maintenance; try again later")

    def remember(self, value: bool) -> None:
        """This process changed the flag itself: use the new value at once."""
        self._value = value
        self._expires = self._clock() + self.ttl

    async def _refresh(self) -> bool:
        try:
            async with asyncio.timeout(self._refresh_timeout):
                value = await self._read()
        except Exception as exc:
            if not self._failing:
                log.warning(
                    "cannot read the maintenance flag (%s); keeping the last known value: %s",
                    type(exc).__name__,
                    "on" if self._value else "off",
                )
            self._failing = True
        else:
            if self._failing:
                log.info("the maintenance flag is readable again")
            if value != self._value:
                log.info("maintenance mode is %s", "on" if value else "off")
            self._failing = False
            self._value = value
        finally:
            self._expires = self._clock() + self.ttl
            self._refreshing = None
        return self._value


def exempt_by_path(routes: Iterable[Any], paths: frozenset[str] = EXEMPT_PATHS) -> None:
    """Mark the handlers of ``paths`` exempt, once at start-up (after every route is registered)."""
    for route in routes:
        if route.path in paths:
            for handler in getattr(route, "route_handlers", ()):
                handler.opt[EXEMPT] = True


class _MaintenanceCheck:
    """App-level middleware, so it runs before the API router's bearer middleware: a caller learns
    of maintenance without a token check. Exempt routes are marked in their handler's ``opt``."""

    def __init__(self, app: ASGIApp, gate: MaintenanceGate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and not scope["route_handler"].opt.get(EXEMPT):
            await self.gate.ensure_off()
        await self.app(scope, receive, send)


def maintenance_check(gate: MaintenanceGate) -> Callable[[ASGIApp], ASGIApp]:
    # A closure so that no layer's deep copy ever duplicates the gate (see app/http/auth.py).
    def middleware(app: ASGIApp) -> ASGIApp:
        return _MaintenanceCheck(app, gate)

    return middleware
