"""A stand-in for Consul's KV HTTP API (``/v1/kv``), as py-consul's ``kv`` client uses it.

Modelled on Consul's documented behaviour:

- ``GET /v1/kv/<key>`` answers a JSON array of entries (``LockIndex``, ``Key``, ``Flags``,
  ``Value`` base64 or ``null``, ``CreateIndex``, ``ModifyIndex``), or 404 with an empty body;
  ``?recurse`` lists a prefix, ``?keys`` (with ``?separator``) lists key names, ``?raw`` answers
  one value's bytes. Every answer carries ``X-Consul-Index``, ``X-Consul-Knownleader`` and
  ``X-Consul-Lastcontact``.
- ``X-Consul-Index`` for a query is the highest ``ModifyIndex`` among the matching keys and the
  keys deleted under it, or the store's index when there are none (so a change to another
  prefix does not wake a blocking query on this one, as in Consul).
- Blocking queries: ``?index=N&wait=30s`` holds the answer until that index passes ``N`` or the
  wait elapses (Go duration syntax, default 5m, at most 10m). Consul adds up to ``wait/16`` of
  jitter; this stand-in does not, so a client's timeout must leave room for it anyway.
- ACL (when ``required_token`` is set): the token is read from ``?token``, then
  ``X-Consul-Token``, then ``Authorization: Bearer``. An unknown token → 403 ``ACL not found``.
  No token means the anonymous token, which may do nothing: a write or a single-key read →
  403 ``Permission denied: anonymous token lacks permission ...``, while a listing is filtered
  to nothing → 404 with ``X-Consul-Results-Filtered-By-ACLs: true`` (a missing token looks like
  an empty prefix, exactly as with a real Consul).
- ``PUT`` (body = raw value, ``?flags``, ``?cas``) and ``DELETE`` (``?recurse``, ``?cas``) answer
  ``true`` or ``false``; every write moves the store's index, even one that stores the same value.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from dataclasses import dataclass
from typing import Self
from urllib.parse import unquote

from tests.support.http_stub import StubRequest, StubResponse, StubServer

__all__ = ["FakeConsul", "KVEntry", "parse_go_duration"]

_KV_PATH = "/v1/kv/"
_DEFAULT_WAIT = 300.0
_MAX_WAIT = 600.0
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(slots=True)
class KVEntry:
    key: str
    value: bytes
    flags: int
    create_index: int
    modify_index: int

    def as_json(self) -> dict[str, object]:
        return {
            "LockIndex": 0,
            "Key": self.key,
            "Flags": self.flags,
            "Value": base64.b64encode(self.value).decode() if self.value else None,
            "CreateIndex": self.create_index,
            "ModifyIndex": self.modify_index,
        }


class _BadRequestError(Exception):
    pass


def parse_go_duration(text: str) -> float:
    """Seconds in a Go ``time.ParseDuration`` string such as ``30s``, ``100ms`` or ``1m30s``."""
    position, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise ValueError(f"invalid duration {text!r}")
    return total


class FakeConsul(StubServer):
    def __init__(self, *, required_token: str | None = None) -> None:
        super().__init__()
        #: the only token Consul knows; ``None`` means ACLs are disabled
        self.required_token = required_token
        self._state = threading.Condition()
        self._entries: dict[str, KVEntry] = {}
        self._tombstones: dict[str, int] = {}  # deleted key → index of its deletion
        self._index = 1
        self._blocked = 0
        self._closing = False

    # -- test-side API ------------------------------------------------------------------
    @property
    def index(self) -> int:
        with self._state:
            return self._index

    def put(self, key: str, value: str | bytes, flags: int = 0) -> int:
        """Store a value; returns the new ModifyIndex."""
        with self._state:
            return self._put(key, value.encode() if isinstance(value, str) else value, flags)

    def delete(self, key: str, *, recurse: bool = False) -> None:
        with self._state:
            self._delete(key, recurse=recurse)

    def snapshot(self) -> dict[str, str]:
        """Every key and its value (UTF-8, empty string for no value), in key order."""
        with self._state:
            return {key: self._entries[key].value.decode() for key in sorted(self._entries)}

    def entry(self, key: str) -> KVEntry | None:
        with self._state:
            return self._entries.get(key)

    @property
    def blocked_queries(self) -> int:
        """Blocking queries currently held open."""
        with self._state:
            return self._blocked

    def wait_for_blocked_queries(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until ``count`` blocking queries are held, so a test can change a key after."""
        with self._state:
            if not self._state.wait_for(lambda: self._blocked >= count, timeout):
                raise TimeoutError(f"{self._blocked} blocking queries held, expected {count}")

    @property
    def kv_hits(self) -> int:
        return len(self.requests_to(_KV_PATH, "GET"))

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> Self:
        with self._state:
            self._closing = False
        return super().start()

    def stop(self) -> None:
        # Sever the connections first so that a held query fails like it does when Consul
        # dies, then release the handler threads (their late answers go nowhere).
        super().stop()
        with self._state:
            self._closing = True
            self._state.notify_all()

    # -- store (call with self._state held) ---------------------------------------------
    def _changed(self) -> int:
        self._index += 1
        self._state.notify_all()
        return self._index

    def _put(self, key: str, value: bytes, flags: int) -> int:
        index = self._changed()
        existing = self._entries.get(key)
        create_index = existing.create_index if existing else index
        self._entries[key] = KVEntry(key, value, flags, create_index, index)
        self._tombstones.pop(key, None)
        return index

    def _delete(self, key: str, *, recurse: bool) -> None:
        doomed = [k for k in self._entries if k.startswith(key)] if recurse else [key]
        doomed = [k for k in doomed if k in self._entries]
        if not doomed:
            return
        index = self._changed()
        for k in doomed:
            del self._entries[k]
            self._tombstones[k] = index

    def _matching(self, key: str, recurse: bool) -> list[KVEntry]:
        if recurse:
            return [self._entries[k] for k in sorted(self._entries) if k.startswith(key)]
        entry = self._entries.get(key)
        return [entry] if entry else []

    def _query_index(self, key: str, recurse: bool) -> int:
        def matches(k: str) -> bool:
            return k.startswith(key) if recurse else k == key

        indexes = [e.modify_index for e in self._entries.values() if matches(e.key)]
        indexes += [index for k, index in self._tombstones.items() if matches(k)]
        return max(indexes, default=0) or self._index

    # -- HTTP ---------------------------------------------------------------------------
    def handle(self, request: StubRequest) -> StubResponse:
        if not request.path.startswith(_KV_PATH):
            return StubResponse(status=404, body=b"404 page not found\n", headers=_TEXT)
        key = unquote(request.path[len(_KV_PATH) :])
        try:
            denied = self._authorize(request, key)
            if denied is not None:
                return denied
            if request.method == "GET":
                return self._get(request, key)
            if request.method in ("PUT", "DELETE"):
                return self._write(request, key)
        except _BadRequestError as error:
            return StubResponse(status=400, body=str(error).encode(), headers=_TEXT)
        return StubResponse(status=405, headers=_TEXT)

    def _token(self, request: StubRequest) -> str | None:
        authorization = request.headers.get("authorization", "")
        bearer = authorization[7:] if authorization.lower().startswith("bearer ") else None
        return request.param("token") or request.headers.get("x-consul-token") or bearer or None

    def _authorize(self, request: StubRequest, key: str) -> StubResponse | None:
        """403 for what Consul refuses; a filtered listing is left to ``_get``."""
        if self.required_token is None:
            return None
        token = self._token(request)
        if token == self.required_token:
            return None
        if token is not None:
            return StubResponse(status=403, body=b"ACL not found", headers=_TEXT)
        if request.method == "GET" and ("recurse" in request.query or "keys" in request.query):
            return None  # listings are filtered, not refused
        access = "read" if request.method == "GET" else "write"
        message = f"Permission denied: anonymous token lacks permission 'key:{access}' on \"{key}\""
        return StubResponse(status=403, body=message.encode(), headers=_TEXT)

    def _get(self, request: StubRequest, key: str) -> StubResponse:
        recurse = "recurse" in request.query or "keys" in request.query
        min_index = _int_param(request, "index", "Invalid index")
        wait = _wait_param(request)
        anonymous = self.required_token is not None and self._token(request) is None
        with self._state:
            if min_index:
                deadline = time.monotonic() + wait
                self._blocked += 1
                self._state.notify_all()
                try:
                    while not self._closing and self._query_index(key, recurse) <= min_index:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            break
                        self._state.wait(remaining)
                finally:
                    self._blocked -= 1
            index = self._query_index(key, recurse)
            entries = [] if anonymous else self._matching(key, recurse)
        headers = {
            "X-Consul-Index": str(index),
            "X-Consul-Knownleader": "true",
            "X-Consul-Lastcontact": "0",
            "X-Consul-Effective-Consistency": "leader",
        }
        if anonymous:
            headers["X-Consul-Results-Filtered-By-ACLs"] = "true"
        if not entries:
            return StubResponse(status=404, headers=headers)
        if "keys" in request.query:
            return StubResponse.json(_key_names(entries, key, request.param("separator") or ""), headers=headers)
        if "raw" in request.query and not recurse:
            return StubResponse(body=entries[0].value, headers={**headers, "Content-Type": "text/plain"})
        return StubResponse.json([entry.as_json() for entry in entries], headers=headers)

    def _write(self, request: StubRequest, key: str) -> StubResponse:
        cas = _int_param(request, "cas", "Invalid CAS index")
        with self._state:
            current = self._entries.get(key)
            if cas is not None and (current.modify_index if current else 0) != cas:
                ok = False
            elif request.method == "PUT":
                if not key:
                    raise _BadRequestError("Missing key name")
                self._put(key, request.body, _int_param(request, "flags", "Invalid flags") or 0)
                ok = True
            else:
                self._delete(key, recurse="recurse" in request.query)
                ok = True
        return StubResponse.json(ok)


_TEXT = {"Content-Type": "text/plain; charset=utf-8"}


def _int_param(request: StubRequest, name: str, message: str) -> int | None:
    value = request.param(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise _BadRequestError(message) from None


def _wait_param(request: StubRequest) -> float:
    value = request.param("wait")
    if not value:
        return _DEFAULT_WAIT
    try:
        return min(parse_go_duration(value), _MAX_WAIT)
    except ValueError:
        raise _BadRequestError("Invalid wait time") from None


def _key_names(entries: list[KVEntry], prefix: str, separator: str) -> list[str]:
    names: list[str] = []
    for entry in entries:
        name = entry.key
        if separator:
            cut = name.find(separator, len(prefix))
            if cut != -1:
                name = name[: cut + len(separator)]
        if name not in names:
            names.append(name)
    return names
