from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency

from app.http.problems import problem_response
from app.maintenance import EXEMPT
from app.readiness import Readiness


class HealthController(Controller):
    path = "/health"
    tags = ["health"]
    include_in_schema = True
    opt = {EXEMPT: True}

    @get("/live", name="health:live", summary="The process is up")
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/ready",
        name="health:ready",
        summary="Ready to serve: the database answers within 2 s",
    )
    async def ready(self, request: Request[Any, Any, Any], readiness: NamedDependency[Readiness]) -> Response[Any]:
        report = await readiness.check()
        if report.ok:
            return Response(report.as_dict())
        return problem_response(503, report.reason or "not ready", request.url.path, headers={"Retry-After": "5"})
