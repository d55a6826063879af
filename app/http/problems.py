"""One mapping from errors to RFC 9457 problem+json responses, for domain errors and Litestar's own.

No error body ever carries a stack trace, SQL or a token: 500s say only that something failed.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from domain.errors import (
    BadSignature,
    Conflict,
    DependencyUnavailable,
    DomainError,
    Forbidden,
    InvalidInput,
    MaintenanceMode,
    NotFound,
    PreconditionFailed,
    Unauthenticated,
)
from domain.idempotency import KeyReused

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = "5"

_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Forbidden: 403,
    PreconditionFailed: 412,
    Conflict: 409,
    KeyReused: 422,
    InvalidInput: 400,
    Unauthenticated: 401,
    DependencyUnavailable: 503,
    MaintenanceMode: 503,
}


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """An RFC 9457 problem. ``errors`` is present on validation errors only."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] | msgspec.UnsetType = msgspec.UNSET


_encoder = msgspec.json.Encoder()
_BACKTICKED = re.compile(r"`([^`]+)`$")


def problem_response(
    status: int,
    detail: str,
    instance: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    problem = Problem(
        type="about:blank",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance,
        errors=errors if errors is not None else msgspec.UNSET,
    )
    return Response(_encoder.encode(problem), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_bytes(status: int, detail: str, instance: str) -> bytes:
    """For the few places that answer below Litestar's routing (the service prefix)."""
    return _encoder.encode(
        Problem(type="about:blank", title=HTTPStatus(status).phrase, status=status, detail=detail, instance=instance)
    )


def instance_of(request: Request[Any, Any, Any]) -> str:
    """The path the client asked for. Until the router has matched a route, ``path`` still holds
    the root path (SERVICE_PREFIX) in front, as ASGI has it; the router then cuts it off."""
    scope = request.scope
    return scope.get("root_path", "") + scope["path"] if "route_handler" in scope else scope["path"]


def bearer_challenge(reason: str) -> str:
    description = reason.replace("\\", "\\\\").replace('"', "'")
    return f'Bearer error="invalid_token", error_description="{description}"'


def _domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[bytes]:
    status = next(code for kind, code in _STATUS.items() if isinstance(exc, kind))
    headers: dict[str, str] | None = None
    errors: list[FieldError] | None = None
    if isinstance(exc, Unauthenticated) and not isinstance(exc, BadSignature):
        headers = {"WWW-Authenticate": bearer_challenge(exc.detail)}
    elif isinstance(exc, DependencyUnavailable | MaintenanceMode):
        headers = {"Retry-After": RETRY_AFTER_SECONDS}
        if isinstance(exc, DependencyUnavailable):
            log.warning("dependency unavailable: %s", exc.dependency, exc_info=exc.__cause__ is not None)
    elif isinstance(exc, InvalidInput):
        errors = [FieldError(field=exc.field, message=exc.message)]
    return problem_response(status, exc.detail, instance_of(request), errors=errors, headers=headers)


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    errors = [_field_error(item) for item in exc.extra] if isinstance(exc.extra, list) else []
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or (exc.detail or "invalid request")
    return problem_response(400, detail, instance_of(request), errors=errors or None)


def _field_error(item: Any) -> FieldError:
    if not isinstance(item, dict):
        return FieldError(field="body", message=str(item))
    message = str(item.get("message", "invalid value"))
    field = str(item.get("key") or "body")
    if field == "data":  # Litestar names the body parameter; name the field inside it instead
        field = "body"
        text, sep, path = message.rpartition(" - at `$.")
        if sep:  # "Expected `str`, got `int` - at `$.content`"
            message, field = text, path.rstrip("`")
        elif (named := _BACKTICKED.search(message)) and "field" in message:  # "... field `extra`"
            field = named.group(1)
    return FieldError(field=field, message=message)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    if status >= 500:  # Litestar's own 5xx (e.g. ImproperlyConfigured) carry internals in detail
        return _unexpected(request, exc)
    detail = exc.detail if exc.detail and exc.detail != HTTPStatus(status).phrase else _default_detail(status)
    headers = dict(exc.headers) if exc.headers else None
    if status == 413:
        detail = _default_detail(413)
    return problem_response(status, detail, instance_of(request), headers=headers)


def _default_detail(status: int) -> str:
    return {
        404: "no such resource",
        405: "method not allowed on this resource",
        413: "the request body is larger than 1 MiB",
    }.get(status, HTTPStatus(status).description or HTTPStatus(status).phrase)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("unhandled error on %s %s", request.method, instance_of(request))
    return problem_response(500, "an unexpected error occurred; it has been logged", instance_of(request))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: _domain_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}
