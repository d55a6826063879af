from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency

from app.http.controllers.common import problem_spec, problems
from app.http.problems import problem_response
from app.maintenance import EXEMPT
from app.readiness import Readiness

# Health needs no token: an empty security requirement overrides the document's bearer default.
NO_AUTH: list[dict[str, list[str]]] = [{}]


class HealthController(Controller):
    path = "/health"
    tags = ["health"]
    include_in_schema = True
    opt = {EXEMPT: True}
    security = NO_AUTH

    @get("/live", name="health:live", summary="The process is up", responses=problems(authenticated=False))
    async def live(self) -> dict[str, str]:
        """200 while the process serves requests, whatever its dependencies do. No token; HEAD works too."""
        return {"status": "ok"}

    @get(
        "/ready",
        name="health:ready",
        summary="Ready to serve: the database answers within 2 s",
        responses={
            **problems(authenticated=False),
            503: problem_spec("Not ready: the database does not answer; see Retry-After"),
        },
    )
    async def ready(
        self, request: Request[Any, Any, Any], readiness: NamedDependency[Readiness]
    ) -> Response[dict[str, Any]]:
        """200 when the database answers within 2 s (and what each reporter adds: app/readiness.py), else 503.
        No token; HEAD works too."""
        report = await readiness.check()
        if report.ok:
            return Response(report.as_dict())
        # The annotation documents the 200 body; the 503 is a problem, documented in `responses`.
        return problem_response(  # type: ignore[return-value]
            503, report.reason or "not ready", request.url.path, headers={"Retry-After": "5"}
        )
