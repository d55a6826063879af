"""Structured logs: structlog renders every line, ours and the libraries' (stdlib logging).

- One handler on the root logger, writing to stdout: JSON lines (``LOG_FORMAT=json``, the default
  outside development) or a readable console format. Granian's, uvicorn's, Litestar's and
  Piccolo's loggers lose their own handlers and propagate to it, so nothing is printed twice.
- ``trace_id`` and ``span_id`` of the current span, on every line written inside one, when tracing
  is on (app/tracing.py hands its ``current_ids`` to ``follow_traces``; off, nothing is looked up).
- ``request_id`` (set per request by app/http/observe.py, per call by app/grpc/interceptors.py, in
  the ``REQUEST_ID`` context variable) is added to every line logged while that request runs, from
  our code or a library's. ``request_id_for(offered)`` is the one rule for accepting a client's id.
- ``apply(settings)`` is idempotent and cheap: it is how ``LOG_LEVEL`` / ``LOG_FORMAT`` change while
  running (app.container subscribes it to those keys of the SettingsStore, app/live_settings.py).
- ``granian_formatter`` is named by app/granian-logging.json so that Granian's main process,
  which never imports the app, prints its few lines in the same format.
- ``log_access`` writes the access line (logger ``app.access``) on a fast path: the same fields and
  format, without a stdlib LogRecord, which would cost as much as serving a small request. Its
  fields hold no secret (the route template, never the URL; a request id of a fixed alphabet).
  ``log_rpc`` writes the gRPC server's line the same way (event ``rpc``).
- No line carries a secret. Tracebacks are rendered without their frames' local variables (a
  DSN, a request's headers, a signing key sit in them: structlog's ``dict_tracebacks`` shows them
  by default), and every rendered line goes through ``scrub``: the configured secrets themselves
  (``app.settings.SECRETS``: the integrations' secrets and tokens, the database password, as
  given and as JSON or repr would escape them, kept after a reload replaces them), a URL's password,
  bearer tokens, JWTs and hex signatures, whatever message carries them (a driver's error text).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, MutableMapping
from contextvars import ContextVar
from typing import Any, Literal

import msgspec
import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import Processor

from app.settings import Settings, SettingsError, secret_values
from app.settings_layers import load_settings

# Loggers that libraries configure with handlers of their own (or might): routed to ours instead.
ROUTED_LOGGERS = (
    "_granian",
    "granian.access",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "litestar",
    "piccolo",
    "asyncio",
)

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=@-]{1,128}")


def request_id_for(offered: str | None) -> str:
    """The client's request id when it is 1–128 characters of ``A-Z a-z 0-9 . _ : + / = @ -``
    (anything else could forge or break log lines), otherwise a fresh random one."""
    if offered is not None and _VALID_REQUEST_ID.fullmatch(offered):
        return offered
    return os.urandom(16).hex()


def add_request_id(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


type TraceIds = Callable[[], tuple[str, str] | None]
_trace_ids: TraceIds | None = None  # set while tracing is on (app/tracing.py)


def follow_traces(current: TraceIds | None) -> None:
    """Add the current span's ``trace_id`` and ``span_id`` to every line (None: stop)."""
    global _trace_ids
    _trace_ids = current


def add_trace_ids(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    if _trace_ids is not None and (ids := _trace_ids()) is not None:
        event_dict.setdefault("trace_id", ids[0])
        event_dict.setdefault("span_id", ids[1])
    return event_dict


_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    add_request_id,
    add_trace_ids,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 4  # a shorter "secret" would blank that string in every line, and protects nothing
_LEAKS = re.compile(
    r"(?P<url>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@\"']*:)[^\s@/\"']+@"  # scheme://user:PASSWORD@
    r"|(?P<bearer>\b(?i:bearer)\s+)[A-Za-z0-9._~+/-]{16,}=*"  # Bearer TOKEN (not "bearer token refused")
    r"|\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"  # a JWT, wherever it is
    r"|\b[0-9A-Fa-f]{64,}\b"  # an HMAC-SHA256 signature in hex (X-Keycloak-Signature)
)


def _redact(match: re.Match[str]) -> str:
    if (url := match.group("url")) is not None:
        return f"{url}{REDACTED}@"
    return f"{match.group('bearer') or ''}{REDACTED}"


class Scrubber:
    """The last processor of every formatter: takes secrets out of the rendered line."""

    def __init__(self) -> None:
        self._secrets: tuple[str, ...] = ()

    def learn(self, secrets: Iterable[str]) -> None:
        """Add secret values, as given and as repr and JSON escape them. Values learnt before stay:
        a secret replaced by a reload is still one, and may still be in flight."""
        known = set(self._secrets)
        for secret in secrets:
            if len(secret) >= MIN_SECRET_LENGTH:
                quoted = repr(secret)[1:-1]  # as %r or a traceback shows it, then JSON-encoded too
                known |= {secret, quoted, json.dumps(secret)[1:-1], json.dumps(quoted)[1:-1]}
        self._secrets = tuple(sorted(known, key=len, reverse=True))  # longest first: no partial leftovers

    def __call__(self, _: Any, __: str, line: Any) -> str:  # the rendered line (a processor after the renderer)
        for secret in self._secrets:
            if secret in line:
                line = line.replace(secret, REDACTED)
        return _LEAKS.sub(_redact, line)


scrub = Scrubber()


def formatter(
    log_format: Literal["console", "json"], scrubber: Scrubber = scrub
) -> structlog.stdlib.ProcessorFormatter:
    tail: list[Processor]
    if log_format == "json":
        no_locals = ExceptionDictTransformer(show_locals=False, use_rich=False)
        tail = [structlog.processors.ExceptionRenderer(no_locals), structlog.processors.JSONRenderer()]
    else:  # plain_traceback: the standard library's format, which shows no locals
        tail = [
            structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty(), exception_formatter=structlog.dev.plain_traceback)
        ]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail, scrubber],
    )


class _AccessLog:
    def __init__(self) -> None:
        self.logger = logging.getLogger("app.access")
        self.handler: _StdoutHandler | None = None
        self.json = True
        self.console = structlog.dev.ConsoleRenderer(colors=False)
        self._encode = msgspec.json.Encoder().encode

    def configure(self, handler: _StdoutHandler, log_format: Literal["console", "json"]) -> None:
        self.handler, self.json = handler, log_format == "json"
        if not self.json:
            self.console = structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())

    def write(self, fields: dict[str, Any]) -> None:
        handler = self.handler
        if handler is None or not self.logger.isEnabledFor(logging.INFO):
            return
        fields["logger"], fields["level"] = "app.access", "info"
        if _trace_ids is not None:
            add_trace_ids(None, "info", fields)
        fields["timestamp"] = _utc_timestamp()
        line = self._encode(fields).decode() if self.json else str(self.console(None, "info", fields))
        with handler.lock:  # type: ignore[union-attr]
            stream = sys.stdout
            stream.write(line + "\n")
            stream.flush()


_access = _AccessLog()
_second: list[Any] = [-1, ""]


def _utc_timestamp() -> str:
    """ISO 8601 in UTC with microseconds, like structlog's TimeStamper, formatting the date part
    once per second (datetime.isoformat per line is a measurable share of a small request)."""
    now = time.time()
    second = int(now)
    if second != _second[0]:
        _second[0], _second[1] = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_second[1]}.{int((now - second) * 1_000_000):06d}Z"


def log_access(**fields: Any) -> None:
    """One access line: ``event`` and the given fields, then logger, level and timestamp."""
    _access.write({"event": "request", **fields})


def log_rpc(**fields: Any) -> None:
    """One access line for a gRPC call (event ``rpc``), in the same format and logger."""
    _access.write({"event": "rpc", **fields})


def apply(settings: Settings) -> None:
    """Configure (or re-configure) logging from ``settings``: level, format and the secrets to scrub."""
    scrub.learn(secret_values(settings))
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StdoutHandler)), None)
    if handler is None:
        handler = _StdoutHandler()
        root.addHandler(handler)
    handler.setFormatter(formatter(settings.effective_log_format))
    _access.configure(handler, settings.effective_log_format)
    root.setLevel(settings.log_level)
    for name in ROUTED_LOGGERS:
        routed = logging.getLogger(name)
        routed.handlers.clear()
        routed.propagate = True
        routed.setLevel(logging.NOTSET)


def granian_formatter() -> structlog.stdlib.ProcessorFormatter:
    """For Granian's ``--log-config`` (its main process): the format the settings ask for."""
    try:
        settings = load_settings().settings
    except SettingsError:  # the workers will say what is wrong; the main process just logs
        settings = Settings(app_env=os.environ.get("APP_ENV", "development"))  # type: ignore[arg-type]
    scrub.learn(secret_values(settings))
    return formatter(settings.effective_log_format)
