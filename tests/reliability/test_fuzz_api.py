"""Schemathesis against the app's own OpenAPI document: every operation, on SQLite and PostgreSQL.

Each generated case is sent through the real app (in process, over ASGI) as one of several
callers (the owner, a stranger, an administrator, nobody, a forged token), sometimes aimed at a
resource that exists, and every answer must be in the document: no 5xx, a documented status and
content type, a body and headers matching the documented schema, and invalid input refused.
"""

from __future__ import annotations

import os
import tempfile
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.container import build_container
from app.main import create_app
from app.settings_layers import decode_settings
from tests.support.reliability import STATS
from tests.support.tokens import TestKeys

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
# Fuzzing examples per operation and engine (the coverage phase adds its own deterministic cases).
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
# A fixed seed keeps CI reproducible; set FUZZ_SEED to explore other inputs.
SEED = int(os.environ.get("FUZZ_SEED", "0"))
CALLERS = ["owner", "stranger", "admin", "anonymous", "forged"]


def _document() -> dict[str, Any]:
    """The document the app serves, built without opening a database (nothing is started)."""
    env = {"APP_ENV": "test", "DATABASE_URL": "sqlite:///:memory:", "VAR_DIR": tempfile.gettempdir()}
    app = create_app(build_container(decode_settings([("env", env)]).settings))
    return app.openapi_schema.to_schema()


schema = schemathesis.openapi.from_dict(_document())
schema.config.seed = SEED


@pytest.fixture
def fuzz_app(engine: Any, make_container: Any) -> Iterator[Any]:
    """The real app on an empty database; schemathesis runs its lifespan on its own event loop."""
    # With a webhook secret, as in production: unset, the webhook answers 503 by contract.
    app = create_app(make_container(KEYCLOAK_WEBHOOK_SECRET="fuzz-secret"))
    yield app
    asgi.shutdown_lifespans()


def _headers(keys: TestKeys, caller: str) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    if caller == "forged":
        return {"Authorization": "Bearer " + keys.mint("alice")[:-8] + "AAAAAAAA"}
    return keys.headers(
        {"owner": "alice", "stranger": "bob", "admin": "root"}[caller], ("admin",) * (caller == "admin")
    )


def _aim_at_existing(case: Any, app: Any, keys: TestKeys) -> None:
    """Replace generated ids with alice's (and those of a fresh post and a comment on it she owns)."""
    ids = {"user_id": str(keys.user_id("alice"))}
    # region: blog
    with asgi.get_client(app) as client:
        post = client.post("/v1/posts", json={"content": "target"}, headers=keys.headers("alice")).json()
        comment = client.post(
            "/v1/comments", json={"post_id": post["id"], "content": "target"}, headers=keys.headers("alice")
        ).json()
    ids |= {"post_id": post["id"], "comment_id": comment["id"]}
    if isinstance(case.body, dict) and "post_id" in case.body:
        case.body["post_id"] = post["id"]
    # endregion
    for name in list(case.path_parameters or {}):
        # Another resource's ids (a new one, say) keep their generated values: still a valid request.
        case.path_parameters[name] = ids.get(name, case.path_parameters[name])


def _variant(case: Any) -> tuple[str, bool]:
    """Who calls, and whether at an existing resource: derived from the generated data, so that a
    failing case replays (and shrinks) with the same caller. (``@schema.given`` cannot be combined
    with the document's examples.)"""
    digest = zlib.crc32(repr((case.path_parameters, case.query, case.headers, case.body)).encode())
    return CALLERS[digest % len(CALLERS)], digest // len(CALLERS) % 2 == 0


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case: Any, fuzz_app: Any, keys: TestKeys, db_url: str) -> None:
    caller, existing = _variant(case)
    if existing and case.meta.generation.mode.is_positive:  # a negative case keeps its invalid parts
        _aim_at_existing(case, fuzz_app, keys)
    STATS["schemathesis cases"] += 1
    if case.operation.schema.is_security_param_negated(case):
        caller = "anonymous"  # the case is about a missing token: do not put one back
    try:
        case.call_and_validate(app=fuzz_app, headers=_headers(keys, caller), checks=CHECKS)
    finally:
        if case.path.startswith("/v1/service-context"):
            # A case may have switched maintenance on: the next cases need the service up.
            with asgi.get_client(fuzz_app) as client:
                client.patch(
                    "/v1/service-context", json={"maintenance": False}, headers=keys.headers("root", ("admin",))
                )
