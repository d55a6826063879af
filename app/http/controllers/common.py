"""Small helpers every controller uses: where a new resource lives, and the responses we document."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter, PathParameter

from app.http.problems import PROBLEM_JSON, Problem
from domain.errors import InvalidInput

# Declared as a string and parsed here: Litestar answers 404 to a path value its converter
# refuses, but a malformed id is bad input (400).
Id = Annotated[str, PathParameter(format="uuid", description="a UUID")]


def parse_id(name: str, value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput(name, "must be a UUID") from None


IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        description='The ETag you last saw, e.g. "3"; a stale one answers 412',
    ),
]


def location(request: Request[Any, Any, Any], handler_name: str, **path_parameters: Any) -> str:
    """A path to the new resource, under the service prefix when there is one."""
    return request.scope.get("root_path", "") + request.app.route_reverse(handler_name, **path_parameters)


_DESCRIPTIONS = {
    400: "Malformed input: bad JSON, unknown or missing fields, out-of-range values",
    401: "No bearer token, or one that cannot be trusted (see WWW-Authenticate)",
    403: "Authenticated but not allowed",
    404: "No such resource",
    409: "Conflicts with what is stored, e.g. a name that must be unique and is taken",
    412: "If-Match names a version that is no longer current",
    413: "Body larger than 1 MiB",
    503: "Maintenance mode, the worker at capacity, or a dependency (database, OpenFGA) unavailable; see Retry-After",
}


def problem_spec(description: str) -> ResponseSpec:
    # No generated examples: Litestar would invent nonsense ones (a "status" of 7024).
    return ResponseSpec(
        data_container=Problem, description=description, media_type=PROBLEM_JSON, generate_examples=False
    )


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problem+json answers a route can give (401 and 503 on every /v1 route)."""
    return {status: problem_spec(_DESCRIPTIONS[status]) for status in sorted({*statuses, 401, 503})}
