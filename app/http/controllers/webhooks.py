"""The Keycloak webhook: users (and, for sharing, groups and memberships) changed in Keycloak, applied to our tables.

Not behind the bearer guard (Keycloak signs the body instead) and exempt from maintenance mode
(``opt={EXEMPT: True}``, app/maintenance.py), so user sync keeps working while writes are paused.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter

from app.http.controllers.common import problems
from app.http.hardening import require_json
from app.http.problems import PROBLEM_JSON, Problem
from app.maintenance import EXEMPT
from domain.use_cases.user_sync import SyncUser

Signature = Annotated[
    str | None,
    HeaderParameter(
        name="X-Keycloak-Signature",
        required=False,
        description="Hex HMAC-SHA256 of the raw body, keyed with KEYCLOAK_WEBHOOK_SECRET",
    ),
]


RESPONSES = {
    **problems(400, 413, 415, authenticated=False),
    401: ResponseSpec(
        data_container=Problem, media_type=PROBLEM_JSON, description="X-Keycloak-Signature is missing or wrong"
    ),
    503: ResponseSpec(
        data_container=Problem,
        media_type=PROBLEM_JSON,
        description="KEYCLOAK_WEBHOOK_SECRET is unset, or the database is unavailable; see Retry-After",
    ),
}


class KeycloakWebhookController(Controller):
    path = "/v1/authentication/webhook"
    tags = ["authentication"]
    security = [{}]  # no bearer token: the body is signed

    @post(
        "/events-synchronization",
        name="keycloak:events",
        status_code=204,
        summary="Keycloak admin events (Phase Two keycloak-events webhook) that keep our records in sync",
        description=(
            "USER CREATE and UPDATE upsert the user, DELETE deactivates it; "
            # region: blog
            "GROUP_MEMBERSHIP CREATE and DELETE add and remove a member of a group; GROUP DELETE ends "
            "every membership and share of the group; "
            # endregion
            "other events are ignored (204). An event older than the last one applied to the same "
            "record is ignored, so late or repeated deliveries change nothing. 503 while "
            "KEYCLOAK_WEBHOOK_SECRET is unset."
        ),
        responses=RESPONSES,
        opt={EXEMPT: True},
    )
    async def events(
        self, request: Request[Any, Any, Any], sync_user: NamedDependency[SyncUser], signature: Signature = None
    ) -> None:
        require_json(request.scope)
        await sync_user(await request.body(), signature)
