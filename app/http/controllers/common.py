"""Small helpers every controller uses: where a new resource lives, and the responses we document."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIHeader, OpenAPIResponse, OpenAPIType, Operation, Parameter, Schema
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
        description=(
            'The ETag you last saw, e.g. "3" (several may be listed: "2", "3"); the change applies only if one '
            "of them is current, else 412 and nothing changes. `*` or absent: whatever the current version is"
        ),
    ),
]

# Response headers, declared for the document only (the handlers set the values).
ETAG = ResponseHeader(
    name="ETag",
    value='"3"',
    documentation_only=True,
    required=True,
    description=(
        'The entity tag of what was returned (for posts and comments their version, e.g. "3"): send it back in '
        "If-Match to change only what you saw, or in If-None-Match to revalidate a copy you keep"
    ),
)
LOCATION = ResponseHeader(
    name="Location",
    value="/v1/posts/0b2d7f4e-8c1a-4b3e-9f6d-5a4c3b2a1f0e",
    documentation_only=True,
    required=True,
    description="The path of the resource just created (under the service prefix, if any)",
)
_STRING = Schema(type=OpenAPIType.STRING)


@dataclass
class ConditionalRead(Operation):
    """The operation of a GET answered with an ETag, with If-None-Match and its 304. The edge answers
    them (app/http/semantics.py), so the handler declares no header parameter: one would cost every
    GET a header parse for what most requests do not send."""

    def __post_init__(self) -> None:
        if_none_match = Parameter(
            name="If-None-Match",
            param_in="header",
            schema=_STRING,
            required=False,
            description="The ETag of a copy you keep (or several, or `*`): if it is still current, 304 and no body",
        )
        not_modified = OpenAPIResponse(
            description="Not modified: your copy is current (no body)",
            headers={"ETag": OpenAPIHeader(schema=_STRING, required=True, description="The current entity tag")},
        )
        self.parameters = [*(self.parameters or ()), if_none_match]
        self.responses = dict(sorted({**(self.responses or {}), "304": not_modified}.items()))


def location(request: Request[Any, Any, Any], handler_name: str, **path_parameters: Any) -> str:
    """A path to the new resource, under the service prefix when there is one."""
    return request.scope.get("root_path", "") + request.app.route_reverse(handler_name, **path_parameters)


_DESCRIPTIONS = {
    400: "Malformed input: bad JSON, unknown or missing fields, out-of-range values",
    401: "No bearer token, or one that cannot be trusted (see WWW-Authenticate)",
    403: "Authenticated but not allowed",
    404: "No such resource",
    405: "This path does not take the method used; Allow lists the methods it does",
    409: (
        "Conflicts with what is stored or running: e.g. a name that must be unique and is taken, or a request "
        "with the same Idempotency-Key that has not finished yet (retry after it)"
    ),
    412: "If-Match names no version that is current; nothing changed",
    413: "Body larger than 1 MiB",
    415: "The body is not declared JSON: send Content-Type: application/json",
    422: "The Idempotency-Key was first used for another request (another body or route); nothing was created",
    503: "Maintenance mode, the worker at capacity, or a dependency (the database, say) unavailable; see Retry-After",
}


def problem_spec(description: str) -> ResponseSpec:
    # No generated examples: Litestar would invent nonsense ones (a "status" of 7024).
    return ResponseSpec(
        data_container=Problem, description=description, media_type=PROBLEM_JSON, generate_examples=False
    )


def problems(*statuses: int, authenticated: bool = True) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problem+json answers a route can give: 405 on every route (another
    method on its path); 400 (two Authorization headers), 401 and 503 on every authenticated one."""
    always = {400, 401, 405, 503} if authenticated else {405}
    return {status: problem_spec(_DESCRIPTIONS[status]) for status in sorted({*statuses, *always})}
