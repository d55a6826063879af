from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, patch
from litestar.di import NamedDependency
from litestar.params import JSONBody

from app.http.auth import principal_of
from app.http.controllers.common import problems
from app.http.schemas import MaintenanceIn, ServiceContextOut
from app.maintenance import EXEMPT, MaintenanceGate
from domain.errors import InvalidInput
from domain.use_cases.service_context import GetServiceContext, SetMaintenance


class ServiceContextController(Controller):
    """Maintenance mode. Exempt from it, or nobody could turn it off over HTTP."""

    path = "/v1/service-context"
    tags = ["service"]
    opt = {EXEMPT: True}

    @get(
        "/",
        name="service-context:get",
        summary="Whether the service is in maintenance mode",
        responses=problems(),
    )
    async def get(self, get_service_context: NamedDependency[GetServiceContext]) -> ServiceContextOut:
        """Any authenticated caller may ask; it answers while maintenance mode is on."""
        return ServiceContextOut.of(await get_service_context())

    @patch(
        "/",
        name="service-context:update",
        summary="Turn maintenance mode on or off (admin only); every instance follows within MAINTENANCE_CACHE_SECONDS",
        responses=problems(400, 403, 413, 415),
    )
    async def update(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[MaintenanceIn],
        set_maintenance: NamedDependency[SetMaintenance],
        maintenance_gate: NamedDependency[MaintenanceGate],
    ) -> ServiceContextOut:
        """While it is on, every route but this one, health, the docs and the Keycloak webhook answers
        503 with Retry-After. Stored in the database: it survives restarts and every instance follows."""
        # Litestar decodes bodies leniently (0 and 1 pass as booleans); this switch takes only true/false.
        if not isinstance(msgspec.json.decode(await request.body()).get("maintenance"), bool):
            raise InvalidInput("maintenance", "must be true or false")
        context = await set_maintenance(principal_of(request), data.maintenance)
        maintenance_gate.remember(context.maintenance)
        return ServiceContextOut.of(context)
