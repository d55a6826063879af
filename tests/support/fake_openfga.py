"""A stand-in OpenFGA server for tests.

It speaks the part of the OpenFGA HTTP API that openfga-sdk's ``OpenFgaClient`` uses for
``check``, ``write``/``write_tuples``/``delete_tuples`` and ``read`` (plus ``GET /stores/{id}``),
with the request and response shapes, validation rules and error bodies of the real server
(openfga/openfga ``pkg/server``, openfga/api ``openfga_service.proto``):

* every error is ``{"code": ..., "message": ...}``; validation and input errors are HTTP 400,
  an unknown store on ``GET /stores/{id}`` is 404 ``store_id_not_found``;
* ``check`` and a ``write`` with writes resolve the authorization model *before* the store, so an
  unknown store answers 400 ``authorization_model_not_found`` (or
  ``latest_authorization_model_not_found`` without a model id), exactly like the real server;
* ``write`` is one transaction: deletes then writes, all or nothing. A duplicate write or a
  missing delete is 400 ``write_failed_due_to_invalid_input`` unless the request carries
  ``on_duplicate: "ignore"`` / ``on_missing: "ignore"`` (OpenFGA >= 1.10, which the SDK sends
  for ``ConflictOptions``);
* ``check`` evaluates the repository's authorization model (``adapters/authz/model.fga``, as
  ``fga model transform`` gives it) over the stored tuples plus the request's contextual tuples;
  a test replays every check of ``model.fga.yaml`` against it.

Knobs for fault tests: :meth:`FakeOpenFGA.fail_next`, ``delay_seconds`` and ``stop()``/``start()``
(inherited from :class:`StubServer`), :attr:`FakeOpenFGA.tuples`, and the per-endpoint counters.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import secrets
import subprocess
import threading
import time
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from tests.support.http_stub import StubRequest, StubResponse, StubServer

TupleKey = tuple[str, str, str]
"""``(user, relation, object)``, in the order of the SDK's ``ClientTuple``."""

# The server's pattern for store and model ids (openfga_service.proto). It excludes I, L, O, U.
ULID_PATTERN: Final = "^[ABCDEFGHJKMNPQRSTVWXYZ0-9]{26}$"
_ULID = re.compile(ULID_PATTERN)
_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

STORE_ID: Final = "01JD6V4PZ0Q8W3Y5N7M9K2H4TB"
MODEL_ID: Final = "01JD6V4Q1A2B3C4D5E6F7G8H9J"


def new_ulid() -> str:
    """A fresh ULID (48-bit millisecond time, 80 random bits), e.g. for an unknown store id."""
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


MODEL_FILE: Final = Path(__file__).resolve().parents[2] / "adapters" / "authz" / "model.fga"


@functools.cache
def authorization_model() -> Mapping[str, Any]:
    """The repository's model as the server stores it: `fga model transform --file
    adapters/authz/model.fga`. Read from the file rather than copied here, so that the fake knows
    every type the model has, those `just new-resource` adds included."""
    from tests.support.openfga import fga_binary  # which imports this module

    command = [str(fga_binary()), "model", "transform", "--file", str(MODEL_FILE), "--output-format", "json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    model: Mapping[str, Any] = json.loads(done.stdout)
    return model


MAX_TUPLES_PER_WRITE: Final = 100
MAX_CONTEXTUAL_TUPLES: Final = 100
DEFAULT_PAGE_SIZE: Final = 50
RESOLVE_NODE_LIMIT: Final = 25

# Field patterns of TupleKey / CheckRequestTupleKey / ReadRequestTupleKey in the proto.
_USER_FIELD = re.compile(r"^[^\s]{2,512}$")
_RELATION_FIELD = re.compile(r"^[^:#@\s]{1,50}$")
_OBJECT_FIELD = re.compile(r"^[^\s]{2,256}$")
_USER_FIELD_TEXT: Final = r"^[^\s]{2,512}$"
_RELATION_FIELD_TEXT: Final = r"^[^:#@\s]{1,50}$"
_OBJECT_FIELD_TEXT: Final = r"^[^\s]{2,256}$"

# Shapes accepted by pkg/tuple (IsValidObject / IsValidRelation / IsValidUser).
_OBJECT = re.compile(r"^[^\s:#@]+:[^\s:#@]+$")
_USERSET = re.compile(r"^[^\s:#@]+:[^\s:#@]+#[^\s:#@]+$")

_ROUTE = re.compile(r"^/stores/(?P<store>[^/]+)(?:/(?P<endpoint>check|write|read))?$")

# Default error body per status for injected failures, as the real server words them.
_FAILURE_BODIES: Final[Mapping[int, tuple[str, str]]] = {
    400: ("validation_error", "injected validation failure"),
    401: ("unauthenticated", "unauthenticated"),
    403: ("forbidden", "the principal is not authorized to perform the action"),
    404: ("undefined_endpoint", "Not Found"),
    409: ("Aborted", "transactional write failed due to conflict"),
    422: ("throttled_timeout_error", "timeout due to throttling on complex request"),
    429: ("rate_limit_exceeded", "Rate Limit exceeded"),
    500: ("internal_error", "Internal Server Error"),
    503: ("unavailable", "Service Unavailable"),
    504: ("deadline_exceeded", "Request Deadline Exceeded"),
}


class OpenFGAError(Exception):
    """An error answer of the OpenFGA API."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def response(self, headers: Mapping[str, str] | None = None) -> StubResponse:
        return StubResponse.json({"code": self.code, "message": self.message}, self.status, dict(headers or {}))


def _validation_error(message: str) -> OpenFGAError:
    return OpenFGAError(400, "validation_error", message)


def _pattern_error(message_name: str, field_name: str, pattern: str) -> OpenFGAError:
    return _validation_error(f'invalid {message_name}.{field_name}: value does not match regex pattern "{pattern}"')


def tuple_to_string(key: TupleKey) -> str:
    user, relation, object_ = key
    return f"{object_}#{relation}@{user}"


def _describe(key: TupleKey) -> str:
    user, relation, object_ = key
    return f"user: '{user}', relation: '{relation}', object: '{object_}'"


class _InvalidTuple(Exception):
    """A tuple that does not fit the model; ``str()`` is the server's reason text."""


class AuthorizationModel:
    """Evaluates an OpenFGA JSON model: ``this`` (with ``type#relation`` userset restrictions),
    ``computedUserset``, ``tupleToUserset``, union/intersection/difference.

    Anything else (wildcard type restrictions, conditions) is refused at construction, so a richer
    model cannot be evaluated wrongly without notice. The parity suite does not rely on this
    evaluation: it asks the real engine (``fga model test``; tests/integration/test_permission_parity.py).
    """

    def __init__(self, definition: Mapping[str, Any]) -> None:
        if definition.get("schema_version") != "1.1":
            raise NotImplementedError("only schema 1.1 models are supported")
        if definition.get("conditions"):
            raise NotImplementedError("conditions are not supported")
        self.relations: dict[str, dict[str, Mapping[str, Any]]] = {}
        self.direct_types: dict[tuple[str, str], frozenset[str]] = {}
        for type_definition in definition["type_definitions"]:
            type_name = type_definition["type"]
            relations = dict(type_definition.get("relations") or {})
            self.relations[type_name] = relations
            metadata = (type_definition.get("metadata") or {}).get("relations") or {}
            for relation, rewrite in relations.items():
                self._require_supported(rewrite)
                restrictions = (metadata.get(relation) or {}).get("directly_related_user_types") or []
                for restriction in restrictions:
                    if set(restriction) - {"type", "relation"}:
                        raise NotImplementedError(f"type restriction {restriction} on {type_name}#{relation}")
                self.direct_types[(type_name, relation)] = frozenset(
                    r["type"] + (f"#{r['relation']}" if r.get("relation") else "") for r in restrictions
                )

    def _require_supported(self, rewrite: Mapping[str, Any]) -> None:
        if "this" in rewrite or "computedUserset" in rewrite or "tupleToUserset" in rewrite:
            return
        if "union" in rewrite or "intersection" in rewrite:
            for child in (rewrite.get("union") or rewrite["intersection"])["child"]:
                self._require_supported(child)
            return
        if "difference" in rewrite:
            self._require_supported(rewrite["difference"]["base"])
            self._require_supported(rewrite["difference"]["subtract"])
            return
        raise NotImplementedError(f"rewrite {rewrite}")

    # -- validation (internal/validation/validation.go) ----------------------------------
    def validate_user_object_relation(self, key: TupleKey) -> None:
        user, relation, object_ = key
        if not (_OBJECT.match(user) or _USERSET.match(user)):
            raise _InvalidTuple("the 'user' field is malformed")
        user_object, _, user_relation = user.partition("#")
        user_type = user_object.split(":", 1)[0]
        if user_type not in self.relations:
            raise _InvalidTuple(f"type '{user_type}' not found")
        if user_relation and user_relation not in self.relations[user_type]:
            raise _InvalidTuple(f"relation '{user_type}#{user_relation}' not found")

        if not _OBJECT.match(object_):
            raise _InvalidTuple("invalid 'object' field format")
        object_type, object_id = object_.split(":", 1)
        if object_id == "*":
            raise _InvalidTuple("the 'object' field cannot reference a typed wildcard")
        if object_type not in self.relations:
            raise _InvalidTuple(f"type '{object_type}' not found")

        if not _RELATION_FIELD.match(relation):
            raise _InvalidTuple("the 'relation' field is malformed")
        if relation not in self.relations[object_type]:
            raise _InvalidTuple(f"relation '{object_type}#{relation}' not found")

    def validate_for_write(self, key: TupleKey) -> None:
        """What a written (or contextual) tuple must satisfy; raises with the server's reason."""
        self.validate_user_object_relation(key)
        user, relation, object_ = key
        object_type = object_.split(":", 1)[0]
        user_object, _, user_relation = user.partition("#")
        user_type = user_object.split(":", 1)[0]
        if user_relation:
            if f"{user_type}#{user_relation}" in self.direct_types[(object_type, relation)]:
                return
            raise _InvalidTuple(
                f"'{user_type}#{user_relation}' is not an allowed type restriction for '{object_type}#{relation}'"
            )
        if user_object.endswith(":*"):
            raise _InvalidTuple(
                f"the typed wildcard '{user}' is not an allowed type restriction for '{object_type}#{relation}'"
            )
        if user_type not in self.direct_types[(object_type, relation)]:
            raise _InvalidTuple(f"type '{user_type}' is not an allowed type restriction for '{object_type}#{relation}'")

    # -- evaluation --------------------------------------------------------------------
    def check(self, tuples: Collection[TupleKey], key: TupleKey) -> bool:
        user, relation, object_ = key
        return self._check(tuples, user, relation, object_, depth=0)

    def _check(self, tuples: Collection[TupleKey], user: str, relation: str, object_: str, depth: int) -> bool:
        if depth >= RESOLVE_NODE_LIMIT:
            raise OpenFGAError(
                400,
                "authorization_model_resolution_too_complex",
                "Authorization Model resolution required too many rewrite rules to be resolved. "
                "Check your authorization model for infinite recursion or too much nesting",
            )
        rewrite = self.relations[object_.split(":", 1)[0]][relation]
        return self._rewrite(tuples, rewrite, user, relation, object_, depth)

    def _rewrite(
        self,
        tuples: Collection[TupleKey],
        rewrite: Mapping[str, Any],
        user: str,
        relation: str,
        object_: str,
        depth: int,
    ) -> bool:
        if "this" in rewrite:
            if (user, relation, object_) in tuples:
                return True
            # A userset tuple (group:staff#member, editor, post:1): the user, if a member of it.
            return any(
                self._check(tuples, user, userset_relation, userset_object, depth + 1)
                for stored_user, stored_relation, stored_object in tuples
                if stored_relation == relation and stored_object == object_ and "#" in stored_user
                for userset_object, _, userset_relation in [stored_user.partition("#")]
            )
        if "computedUserset" in rewrite:
            return self._check(tuples, user, rewrite["computedUserset"]["relation"], object_, depth + 1)
        if "tupleToUserset" in rewrite:
            # "owner from post": the owner of each object that is this object's post.
            tupleset = rewrite["tupleToUserset"]["tupleset"]["relation"]
            computed = rewrite["tupleToUserset"]["computedUserset"]["relation"]
            return any(
                self._check(tuples, user, computed, parent, depth + 1)
                for parent, stored_relation, stored_object in tuples
                if stored_relation == tupleset and stored_object == object_
            )
        if "union" in rewrite:
            return any(
                self._rewrite(tuples, child, user, relation, object_, depth) for child in rewrite["union"]["child"]
            )
        if "intersection" in rewrite:
            return all(
                self._rewrite(tuples, child, user, relation, object_, depth)
                for child in rewrite["intersection"]["child"]
            )
        difference = rewrite["difference"]
        return self._rewrite(tuples, difference["base"], user, relation, object_, depth) and not self._rewrite(
            tuples, difference["subtract"], user, relation, object_, depth
        )


@dataclass(slots=True)
class _StoredTuple:
    sequence: int
    timestamp: str


@dataclass(slots=True)
class _Failure:
    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _encode_token(sequence: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": sequence}).encode()).decode()


def _decode_token(token: str) -> int:
    try:
        after = json.loads(base64.urlsafe_b64decode(token.encode()))["after"]
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise OpenFGAError(400, "invalid_continuation_token", "Invalid continuation token") from exc
    if not isinstance(after, int):
        raise OpenFGAError(400, "invalid_continuation_token", "Invalid continuation token")
    return after


class FakeOpenFGA(StubServer):
    """One store (``store_id``) holding one authorization model (``model_id``).

    Any other well-formed store id is a store that does not exist. Counters count every request
    that reached the endpoint, injected failures included, so retries can be counted.
    """

    def __init__(
        self,
        store_id: str = STORE_ID,
        model_id: str = MODEL_ID,
        model: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if not (_ULID.match(store_id) and _ULID.match(model_id)):
            raise ValueError("store_id and model_id must be ULIDs")
        self.store_id = store_id
        self.model_id = model_id
        self.model = AuthorizationModel(authorization_model() if model is None else model)
        self.check_count = 0
        self.write_count = 0
        self.read_count = 0
        self._state = threading.Lock()
        self._tuples: dict[TupleKey, _StoredTuple] = {}
        self._sequence = 0
        self._failures: deque[_Failure] = deque()
        self._created_at = _now()

    # -- knobs -------------------------------------------------------------------------
    @property
    def tuples(self) -> set[TupleKey]:
        """A copy of the stored tuples."""
        with self._state:
            return set(self._tuples)

    def add_tuples(self, *keys: TupleKey) -> None:
        """Store tuples directly (no request, no counter); they must fit the model."""
        for key in keys:
            try:
                self.model.validate_for_write(key)
            except _InvalidTuple as reason:
                raise ValueError(f"{tuple_to_string(key)}: {reason}") from None
        with self._state:
            for key in keys:
                if key not in self._tuples:
                    self._store(key)

    def clear(self) -> None:
        with self._state:
            self._tuples.clear()

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        *,
        code: str | None = None,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``n`` requests, whatever they are, with ``status`` and an OpenFGA error body."""
        default_code, default_message = _FAILURE_BODIES.get(
            status, ("internal_error", "Internal Server Error") if status >= 500 else ("validation_error", "error")
        )
        failure = _Failure(status, code or default_code, message or default_message, dict(headers or {}))
        with self._state:
            self._failures.extend(failure for _ in range(n))

    def reset_counters(self) -> None:
        with self._state:
            self.check_count = self.write_count = self.read_count = 0

    # -- HTTP --------------------------------------------------------------------------
    def handle(self, request: StubRequest) -> StubResponse:
        route = _ROUTE.match(request.path)
        endpoint = route.group("endpoint") if route else None
        with self._state:
            if endpoint == "check":
                self.check_count += 1
            elif endpoint == "write":
                self.write_count += 1
            elif endpoint == "read":
                self.read_count += 1
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            return OpenFGAError(failure.status, failure.code, failure.message).response(failure.headers)

        try:
            if route is None:
                raise OpenFGAError(404, "undefined_endpoint", "Not Found")
            store_id = route.group("store")
            if endpoint is None and request.method == "GET":
                return StubResponse.json(self._get_store(store_id))
            if endpoint is None or request.method != "POST":
                raise OpenFGAError(404, "undefined_endpoint", "Not Found")
            body = self._json_body(request)
            if endpoint == "check":
                return StubResponse.json(self._check(store_id, body))
            if endpoint == "write":
                return StubResponse.json(self._write(store_id, body))
            return StubResponse.json(self._read(store_id, body))
        except OpenFGAError as error:
            return error.response()

    @staticmethod
    def _json_body(request: StubRequest) -> Mapping[str, Any]:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise _validation_error(f"invalid JSON body: {exc}") from exc
        if not isinstance(body, dict):
            raise _validation_error("the request body must be a JSON object")
        return body

    # -- endpoints ---------------------------------------------------------------------
    def _get_store(self, store_id: str) -> Mapping[str, Any]:
        if not _ULID.match(store_id):
            raise _pattern_error("GetStoreRequest", "StoreId", ULID_PATTERN)
        if store_id != self.store_id:
            raise OpenFGAError(404, "store_id_not_found", "Store ID not found")
        return {"id": store_id, "name": "fake", "created_at": self._created_at, "updated_at": self._created_at}

    def _check(self, store_id: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        if not _ULID.match(store_id):
            raise _pattern_error("CheckRequest", "StoreId", ULID_PATTERN)
        raw_key = body.get("tuple_key")
        if not raw_key:
            raise OpenFGAError(400, "tuple_key_value_not_specified", "invalid CheckRequest.TupleKey: value is required")
        key = self._tuple_key(raw_key, "CheckRequestTupleKey")
        contextual_raw = (body.get("contextual_tuples") or {}).get("tuple_keys") or []
        if len(contextual_raw) > MAX_CONTEXTUAL_TUPLES:
            raise _validation_error(
                f"invalid ContextualTupleKeys.TupleKeys: value must contain no more than {MAX_CONTEXTUAL_TUPLES} item(s)"
            )
        contextual = [self._tuple_key(raw, "TupleKey") for raw in contextual_raw]
        model_id = self._model_id(body, "CheckRequest")
        self._resolve_model(store_id, model_id)

        try:
            self.model.validate_user_object_relation(key)
        except _InvalidTuple as reason:
            raise _validation_error(str(reason)) from None
        for contextual_key in contextual:
            try:
                self.model.validate_for_write(contextual_key)
            except _InvalidTuple as reason:
                raise OpenFGAError(
                    400, "invalid_tuple", f"Invalid tuple '{tuple_to_string(contextual_key)}'. Reason: {reason}"
                ) from None

        with self._state:
            visible = set(self._tuples) if store_id == self.store_id else set()
        visible.update(contextual)
        return {"allowed": self.model.check(visible, key), "resolution": ""}

    def _write(self, store_id: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        if not _ULID.match(store_id):
            raise _pattern_error("WriteRequest", "StoreId", ULID_PATTERN)
        writes, on_duplicate = self._write_section(body.get("writes"), "WriteRequestWrites", "on_duplicate")
        deletes, on_missing = self._write_section(body.get("deletes"), "WriteRequestDeletes", "on_missing")
        model_id = self._model_id(body, "WriteRequest")
        if not writes and not deletes:
            raise OpenFGAError(
                400,
                "invalid_write_input",
                "Invalid input. Make sure you provide at least one write, or at least one delete",
            )
        if writes:
            self._resolve_model(store_id, model_id)
            for key in writes:
                try:
                    self.model.validate_for_write(key)
                except _InvalidTuple as reason:
                    raise _validation_error(f"Invalid tuple '{tuple_to_string(key)}'. Reason: {reason}") from None
        for key in deletes:
            if not (_OBJECT.match(key[0]) or _USERSET.match(key[0])):
                raise _validation_error(
                    f"Invalid tuple '{tuple_to_string(key)}'. Reason: the 'user' field is malformed"
                )
        seen: set[TupleKey] = set()
        for key in [*deletes, *writes]:
            if key in seen:
                raise OpenFGAError(
                    400, "cannot_allow_duplicate_tuples_in_one_request", f"duplicate tuple in write: {_describe(key)}"
                )
            seen.add(key)
        if len(seen) > MAX_TUPLES_PER_WRITE:
            raise OpenFGAError(
                400,
                "exceeded_entity_limit",
                f"The number of write operations exceeds the allowed limit of {MAX_TUPLES_PER_WRITE}",
            )

        # One transaction: everything is decided before anything changes.
        with self._state:
            stored = self._tuples if store_id == self.store_id else {}
            to_delete = []
            for key in deletes:
                if key in stored:
                    to_delete.append(key)
                elif on_missing != "ignore":
                    raise self._invalid_write_input(f"cannot delete a tuple which does not exist: {_describe(key)}")
            to_write = []
            for key in writes:
                if key not in stored:
                    to_write.append(key)
                elif on_duplicate != "ignore":
                    raise self._invalid_write_input(f"cannot write a tuple which already exists: {_describe(key)}")
            if store_id != self.store_id:
                # Only deletes can get here (writes need the model), and they were all ignored.
                return {}
            for key in to_delete:
                del self._tuples[key]
            for key in to_write:
                self._store(key)
        return {}

    def _read(self, store_id: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        if not _ULID.match(store_id):
            raise _pattern_error("ReadRequest", "StoreId", ULID_PATTERN)
        raw_key = body.get("tuple_key")
        page_size = body.get("page_size")
        if page_size is not None and (not isinstance(page_size, int) or not 1 <= page_size <= 100):
            raise OpenFGAError(
                400, "page_size_invalid", "invalid ReadRequest.PageSize: value must be inside range [1, 100]"
            )
        token = body.get("continuation_token") or ""
        if len(token.encode()) > 5120:
            raise _validation_error("invalid ReadRequest.ContinuationToken: value length must be at most 5120 bytes")

        user = relation = object_type = object_id = ""
        if raw_key is not None:
            user = raw_key.get("user") or ""
            relation = raw_key.get("relation") or ""
            object_ = raw_key.get("object") or ""
            if len(user.encode()) > 512:
                raise _validation_error("invalid ReadRequestTupleKey.User: value length must be at most 512 bytes")
            if relation and not _RELATION_FIELD.match(relation):
                raise _pattern_error("ReadRequestTupleKey", "Relation", _RELATION_FIELD_TEXT)
            if object_ and not _OBJECT_FIELD.match(object_):
                raise _pattern_error("ReadRequestTupleKey", "Object", _OBJECT_FIELD_TEXT)
            object_type, _, object_id = object_.partition(":")
            if not object_type or (not object_id and not user):
                raise _validation_error(
                    "the 'tuple_key' field was provided but the object type field is required "
                    "and both the object id and user cannot be empty"
                )
        after = _decode_token(token) if token else 0

        with self._state:
            stored = list(self._tuples.items()) if store_id == self.store_id else []
        matching = [
            (key, entry)
            for key, entry in sorted(stored, key=lambda item: item[1].sequence)
            if entry.sequence > after
            and (not user or key[0] == user)
            and (not relation or key[1] == relation)
            and (not object_type or key[2].split(":", 1)[0] == object_type)
            and (not object_id or key[2] == f"{object_type}:{object_id}")
        ]
        size = page_size or DEFAULT_PAGE_SIZE
        page = matching[:size]
        return {
            "tuples": [
                {"key": {"user": key[0], "relation": key[1], "object": key[2]}, "timestamp": entry.timestamp}
                for key, entry in page
            ],
            "continuation_token": _encode_token(page[-1][1].sequence) if len(matching) > size else "",
        }

    # -- helpers -----------------------------------------------------------------------
    def _store(self, key: TupleKey) -> None:
        self._sequence += 1
        self._tuples[key] = _StoredTuple(self._sequence, _now())

    def _resolve_model(self, store_id: str, model_id: str) -> None:
        # The real server looks the model up by (store, id) before it ever looks at the store.
        if store_id == self.store_id and model_id in ("", self.model_id):
            return
        if model_id:
            raise OpenFGAError(400, "authorization_model_not_found", f"Authorization Model '{model_id}' not found")
        raise OpenFGAError(
            400, "latest_authorization_model_not_found", f"No authorization models found for store '{store_id}'"
        )

    @staticmethod
    def _model_id(body: Mapping[str, Any], message_name: str) -> str:
        model_id = body.get("authorization_model_id") or ""
        if model_id and not _ULID.match(model_id):
            raise _pattern_error(message_name, "AuthorizationModelId", ULID_PATTERN)
        return str(model_id)

    @staticmethod
    def _tuple_key(raw: Any, message_name: str) -> TupleKey:
        if not isinstance(raw, dict):
            raise _validation_error(f"invalid {message_name}: a tuple key must be an object")
        if raw.get("condition"):
            raise NotImplementedError("conditional tuples are not supported by the fake")
        user, relation, object_ = (str(raw.get(name) or "") for name in ("user", "relation", "object"))
        if not _USER_FIELD.match(user):
            raise _pattern_error(message_name, "User", _USER_FIELD_TEXT)
        if not _RELATION_FIELD.match(relation):
            raise _pattern_error(message_name, "Relation", _RELATION_FIELD_TEXT)
        if not _OBJECT_FIELD.match(object_):
            raise _pattern_error(message_name, "Object", _OBJECT_FIELD_TEXT)
        return user, relation, object_

    def _write_section(self, section: Any, message_name: str, option: str) -> tuple[list[TupleKey], str]:
        if section is None:
            return [], "error"
        raw_keys = section.get("tuple_keys") or []
        if not raw_keys:
            raise _validation_error(f"invalid {message_name}.TupleKeys: value must contain at least 1 item(s)")
        mode = section.get(option) or "error"
        if mode not in ("error", "ignore"):
            field_name = "".join(part.capitalize() for part in option.split("_"))
            raise _validation_error(f"invalid {message_name}.{field_name}: value must be in list [error ignore]")
        key_message = "TupleKey" if option == "on_duplicate" else "TupleKeyWithoutCondition"
        return [self._tuple_key(raw, key_message) for raw in raw_keys], mode

    @staticmethod
    def _invalid_write_input(message: str) -> OpenFGAError:
        # Current servers append storage.ErrInvalidWriteInput's text; older ones said "invalid write input".
        return OpenFGAError(
            400,
            "write_failed_due_to_invalid_input",
            f"{message}: tuple to be written already existed or the tuple to be deleted did not exist",
        )
