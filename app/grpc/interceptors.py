"""What every gRPC call passes through before a servicer, in the order HTTP has it.

``CallObserver`` (outermost, every unary call, health checks included) is app/http/observe.py's
twin: a request id (the ``x-request-id`` metadata when app.logging accepts it, else a fresh one),
returned in the trailing metadata and bound to every log line of the call; one access line (event
``rpc``: ``method``, ``code``, ``duration_ms``, ``request_id``); the ``grpc_server_*`` metrics.

``Guard`` (the blog.v1 services only; health and reflection stay open, like /health and /docs):
1. maintenance mode → UNAVAILABLE, before any token check (app/maintenance.py's gate);
2. the ``authorization: Bearer <JWT>`` metadata, verified by the app's TokenVerifier (the same
   object, cache and key source as HTTP) → the caller, for the servicer (``caller()``);
3. the request bytes decoded here, not by grpc: bytes that are no valid message are
   INVALID_ARGUMENT (grpc's own decoding would answer INTERNAL);
4. any exception the call raises becomes its status, once, in app/grpc/errors.py.

A client's deadline is grpc's: when it passes, grpc cancels the call's task, so the use case stops
where it is and its unit of work rolls back. Both interceptors build each method's wrapper once
and keep it: the servicers do not change while the server runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from app import bearer
from app.grpc.errors import status_of
from app.logging import REQUEST_ID, log_rpc, request_id_for
from app.maintenance import MaintenanceGate
from app.metrics import Metrics
from domain.errors import InvalidInput
from domain.model import Principal
from domain.ports import TokenVerifier

type Handler = grpc.RpcMethodHandler
type Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]]

REQUEST_ID_KEY = "x-request-id"
GUARDED_PREFIX = "/blog.v1."

_CALLER: ContextVar[Principal] = ContextVar("grpc_caller")


def caller() -> Principal:
    """The verified caller of the current call (set by ``Guard``)."""
    return _CALLER.get()


def metadata_values(context: grpc.aio.ServicerContext, key: str) -> list[str]:
    return [str(value) for name, value in context.invocation_metadata() or () if name == key]


class _Wrapping(grpc.aio.ServerInterceptor):  # type: ignore[misc]  # grpc ships no type hints
    """Wraps the unary-unary handler of each method once; streams and unknown methods pass through."""

    def __init__(self) -> None:
        self._wrapped: dict[str, Handler] = {}

    async def intercept_service(self, continuation: Continuation, details: grpc.HandlerCallDetails) -> Handler | None:
        method: str = details.method
        try:
            return self._wrapped[method]
        except KeyError:
            pass
        handler = await continuation(details)
        if handler is None:
            return None  # unknown method: grpc answers UNIMPLEMENTED
        if not (handler.request_streaming or handler.response_streaming):
            handler = self.wrap(method, handler)
        self._wrapped[method] = handler
        return handler

    def wrap(self, method: str, handler: Handler) -> Handler:
        raise NotImplementedError


class CallObserver(_Wrapping):
    def __init__(self, metrics: Metrics | None) -> None:
        super().__init__()
        self.metrics = metrics

    def wrap(self, method: str, handler: Handler) -> Handler:
        behavior = handler.unary_unary
        service, _, name = method.lstrip("/").partition("/")
        metrics = self.metrics

        async def observed(request: Any, context: grpc.aio.ServicerContext) -> Any:
            offered = metadata_values(context, REQUEST_ID_KEY)
            request_id = request_id_for(offered[0] if len(offered) == 1 else None)
            context.set_trailing_metadata(((REQUEST_ID_KEY, request_id),))
            token = REQUEST_ID.set(request_id)
            started = time.perf_counter()
            code: grpc.StatusCode | None = None
            try:
                return await behavior(request, context)
            except asyncio.CancelledError:
                # grpc cancels the task when the client's deadline passes or the client goes away.
                remaining = context.time_remaining()
                expired = remaining is not None and remaining <= 0
                code = grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED
                raise
            except grpc.aio.AbortError:
                raise
            except Exception:
                code = grpc.StatusCode.UNKNOWN  # a handler outside Guard (health, reflection) failed
                raise
            finally:
                elapsed = time.perf_counter() - started
                final = (code or context.code() or grpc.StatusCode.OK).name
                log_rpc(method=method, code=final, duration_ms=round(elapsed * 1000, 3), request_id=request_id)
                if metrics is not None:
                    metrics.observe_rpc(service, name, final, elapsed)
                REQUEST_ID.reset(token)

        return grpc.unary_unary_rpc_method_handler(
            observed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class Guard(_Wrapping):
    def __init__(self, gate: MaintenanceGate, verifier: TokenVerifier) -> None:
        super().__init__()
        self.gate = gate
        self.verifier = verifier

    def wrap(self, method: str, handler: Handler) -> Handler:
        if not method.startswith(GUARDED_PREFIX):
            return handler
        behavior, decode = handler.unary_unary, handler.request_deserializer
        gate, verifier = self.gate, self.verifier

        async def admit(raw: bytes, context: grpc.aio.ServicerContext) -> tuple[Any, Principal]:
            await gate.ensure_off()
            principal = await verifier.verify(bearer.bearer_token(_credentials(context)))
            try:
                return decode(raw), principal
            except DecodeError:  # not protobuf, truncated, or a string field that is not UTF-8
                raise InvalidInput("request", f"not a valid {method} request message") from None

        async def guarded(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
            try:
                request, principal = await admit(raw, context)
                token = _CALLER.set(principal)
                try:
                    return await behavior(request, context)
                finally:
                    _CALLER.reset(token)
            except grpc.aio.AbortError:
                raise  # a servicer that aborted chose its status itself
            except Exception as exc:
                status = status_of(exc)
            await context.abort(status.code, status.details, (*context.trailing_metadata(), *status.trailing_metadata))

        return grpc.unary_unary_rpc_method_handler(
            guarded, request_deserializer=None, response_serializer=handler.response_serializer
        )


def _credentials(context: grpc.aio.ServicerContext) -> str | None:
    values = metadata_values(context, "authorization")
    if len(values) > 1:
        raise InvalidInput("authorization", "must be sent once")
    return values[0] if values else None
