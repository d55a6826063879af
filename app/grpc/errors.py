"""One mapping from errors to gRPC statuses: the twin of app/http/problems.py.

Each domain error kind has one code. ``InvalidInput`` carries its field in a
``google.rpc.BadRequest`` detail, and UNAVAILABLE a ``google.rpc.RetryInfo`` (HTTP's Retry-After),
both in the ``grpc-status-details-bin`` trailer that grpcio-status reads
(``rpc_status.from_call``). Anything else is INTERNAL with a fixed message and a log line: bad
input never reaches that far, so a client never sees UNKNOWN, and never a stack trace.
"""

from __future__ import annotations

import logging

import grpc
from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from domain.errors import (
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

RETRY_DELAY_SECONDS = 5  # as HTTP's Retry-After

CODES: dict[type[DomainError], grpc.StatusCode] = {
    NotFound: grpc.StatusCode.NOT_FOUND,
    Forbidden: grpc.StatusCode.PERMISSION_DENIED,
    PreconditionFailed: grpc.StatusCode.FAILED_PRECONDITION,
    Conflict: grpc.StatusCode.ABORTED,
    KeyReused: grpc.StatusCode.INVALID_ARGUMENT,
    InvalidInput: grpc.StatusCode.INVALID_ARGUMENT,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    DependencyUnavailable: grpc.StatusCode.UNAVAILABLE,
    MaintenanceMode: grpc.StatusCode.UNAVAILABLE,
}


def status_of(exc: Exception) -> grpc.Status:
    """The status a failed call answers with (code, message, and the details trailer)."""
    if not isinstance(exc, DomainError):
        log.error("unhandled error in a gRPC call", exc_info=exc)
        return _status(grpc.StatusCode.INTERNAL, "an unexpected error occurred; it has been logged")
    code = next(code for kind, code in CODES.items() if isinstance(exc, kind))
    if isinstance(exc, InvalidInput):
        violation = error_details_pb2.BadRequest.FieldViolation(field=exc.field, description=exc.message)
        return _status(code, exc.detail, error_details_pb2.BadRequest(field_violations=[violation]))
    if isinstance(exc, DependencyUnavailable | MaintenanceMode):
        if isinstance(exc, DependencyUnavailable):
            log.warning("dependency unavailable: %s", exc.dependency, exc_info=exc.__cause__ is not None)
        return _status(code, exc.detail, error_details_pb2.RetryInfo(retry_delay=Duration(seconds=RETRY_DELAY_SECONDS)))
    return _status(code, exc.detail)


def _status(code: grpc.StatusCode, message: str, *details: Message) -> grpc.Status:
    packed = []
    for detail in details:
        wrapper = AnyMessage()
        wrapper.Pack(detail)
        packed.append(wrapper)
    number: int = code.value[0]  # gRPC's numbering, which google.rpc.Code shares
    return rpc_status.to_status(status_pb2.Status(code=number, message=message, details=packed))
