"""Keycloak's user-sync webhook: Phase Two keycloak-events admin events, signed with a shared secret.

The signature is checked first, over the raw body, in constant time; only a body that carries
the right ``X-Keycloak-Signature`` is parsed at all. What is accepted:

- the contract's shape: ``resourceType``, ``operationType``, ``representation`` (the user as a
  JSON string), ``resourcePath``, ``time`` (ms), plus ``realmName``, ``details``,
  ``authDetails``, which are not needed here;
- Phase Two's real deliveries: ``type`` such as ``admin.USER-CREATE`` (resource and operation
  are read from it when the separate fields are absent), the realm in ``realmId``, and no user
  ``id`` in a CREATE's representation (it is in ``resourcePath``: ``users/<id>``).

USER CREATE, UPDATE and DELETE become a ``UserEvent``, and where posts are shared with groups, group
and membership events theirs (``_group_event``). Any other admin event, and login events (``type``
``access.*``), are well-formed but about nothing the service keeps: ``None``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from typing import Annotated, Any

import msgspec

from domain.errors import BadSignature, DependencyUnavailable, InvalidInput
from domain.model import user_id_from_subject
from domain.sharing import GROUP_NAME_MAX_LENGTH, GROUP_PATH_MAX_LENGTH, GroupEvent, MembershipEvent
from domain.users import IdentityEvent, UserEvent

SIGNATURE_HEADER = "X-Keycloak-Signature"
_OPERATIONS = frozenset({"CREATE", "UPDATE", "DELETE"})
_USER_PATH = re.compile(r"users/([^/?#]+)")
# region: blog
_GROUP_PATH = re.compile(r"groups/([^/?#]+)$")
_MEMBERSHIP_PATH = re.compile(r"users/([^/?#]+)/groups/([^/?#]+)$")
# endregion
_ID_MAX_LENGTH = 255


class KeycloakEvents:
    """``UserEventSource`` for the Phase Two keycloak-events webhook."""

    def __init__(self, secret: str | None) -> None:
        self.configure(secret)

    def configure(self, secret: str | None) -> None:
        """Takes a new KEYCLOAK_WEBHOOK_SECRET while running (configuration reload)."""
        self._secret = secret.encode() if secret else None

    def read(self, body: bytes, signature: str | None) -> IdentityEvent | None:
        if self._secret is None:
            raise DependencyUnavailable(
                "keycloak webhook", "the webhook is not configured: KEYCLOAK_WEBHOOK_SECRET is unset"
            )
        if not signature:
            raise BadSignature(f"missing {SIGNATURE_HEADER}")
        expected = hmac.new(self._secret, body, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(expected, signature.strip().lower().encode("utf-8", "replace")):
            raise BadSignature(f"bad {SIGNATURE_HEADER}: not the HMAC-SHA256 of the body with the shared secret")
        return parse_admin_event(body)


class _AdminEvent(msgspec.Struct, rename="camel"):
    type: str | None = None
    resource_type: str | None = None
    operation_type: str | None = None
    resource_path: str | None = None
    representation: str | dict[str, Any] | None = None
    time: Annotated[int, msgspec.Meta(ge=0)] | None = None


class _UserRepresentation(msgspec.Struct, rename="camel"):
    id: str | None = None
    username: str | msgspec.UnsetType = msgspec.UNSET
    first_name: str | msgspec.UnsetType | None = msgspec.UNSET
    last_name: str | msgspec.UnsetType | None = msgspec.UNSET
    email: str | msgspec.UnsetType | None = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET


# region: blog
class _GroupRepresentation(msgspec.Struct, rename="camel"):
    id: str | None = None
    name: Annotated[str, msgspec.Meta(max_length=GROUP_NAME_MAX_LENGTH)] | None = None
    path: Annotated[str, msgspec.Meta(max_length=GROUP_PATH_MAX_LENGTH)] | None = None


# endregion


def parse_admin_event(body: bytes) -> IdentityEvent | None:
    """The user, group or membership change an admin event announces; None when it is about something else."""
    event = _decode(body)
    resource, operation = _kind(event)
    if resource is None and operation is None and event.type is not None and event.type.startswith("access."):
        return None  # a login or other user-session event: nothing to sync
    if resource is None:
        raise InvalidInput("resourceType", "required (or a Phase Two 'type' such as admin.USER-UPDATE)")
    # region: blog
    if resource in ("GROUP", "GROUP_MEMBERSHIP"):
        return _group_event(event, resource, operation)
    # endregion
    if resource != "USER":
        return None
    if operation is None:
        raise InvalidInput("operationType", "required for a USER event")
    if operation not in _OPERATIONS:
        return None  # e.g. ACTION (a password reset e-mail): the record does not change
    if event.time is None:
        raise InvalidInput("time", "required: the event time (ms) orders deliveries")
    representation = _representation(event.representation)
    if representation is None and operation != "DELETE":
        raise InvalidInput(
            "representation", f"required for USER {operation} (turn on 'include representation' for admin events)"
        )
    user_id = _user_id(representation, event.resource_path)
    if operation == "DELETE":
        return UserEvent(user_id=user_id, time_ms=event.time, deleted=True)
    assert representation is not None
    return UserEvent(
        user_id=user_id,
        time_ms=event.time,
        username=representation.username,
        full_name=_full_name(representation),
        email=_blank_is_none(representation.email),
        enabled=representation.enabled,
    )


# region: blog
# GROUP CREATE, UPDATE and DELETE become a ``GroupEvent`` (path ``groups/<id>``, the group as
# representation except on DELETE); GROUP_MEMBERSHIP CREATE and DELETE a ``MembershipEvent`` (path
# ``users/<user id>/groups/<group id>``, the group as representation, as Keycloak's
# ``UserResource.joinGroup``/``removeMembership`` send it).
def _group_event(event: _AdminEvent, resource: str, operation: str | None) -> GroupEvent | MembershipEvent | None:
    membership = resource == "GROUP_MEMBERSHIP"
    if operation is None:
        raise InvalidInput("operationType", f"required for a {resource} event")
    if operation not in (("CREATE", "DELETE") if membership else _OPERATIONS):
        return None
    if event.time is None:
        raise InvalidInput("time", "required: the event time (ms) orders deliveries")
    group = _decode_representation(event.representation, _GroupRepresentation)
    if group is None and (membership or operation != "DELETE"):
        raise InvalidInput(
            "representation", f"required for {resource} {operation} (turn on 'include representation' for admin events)"
        )
    path = event.resource_path or ""
    matched = (_MEMBERSHIP_PATH if membership else _GROUP_PATH).search(path)
    if membership and matched is None:
        raise InvalidInput("resourcePath", "a GROUP_MEMBERSHIP event's path is users/<user id>/groups/<group id>")
    from_path = matched.group(matched.lastindex or 1) if matched else None
    from_representation = group.id if group is not None else None
    if from_path and from_representation and from_path != from_representation:
        raise InvalidInput("representation.id", "does not match the group id in resourcePath")
    group_event = GroupEvent(
        group_id=_group_id(from_representation or from_path),
        time_ms=event.time,
        name=group.name if group is not None else None,
        path=group.path if group is not None else None,
        deleted=not membership and operation == "DELETE",
    )
    if not membership:
        return group_event
    assert matched is not None
    subject = matched.group(1)
    if len(subject) > _ID_MAX_LENGTH:
        raise InvalidInput("resourcePath", f"the user id is longer than {_ID_MAX_LENGTH} characters")
    return MembershipEvent(user_id=user_id_from_subject(subject), group=group_event, joined=operation == "CREATE")


def _group_id(value: str | None) -> uuid.UUID:
    """Keycloak's group ids are UUIDs (it generates them; imports cannot choose another shape)."""
    if not value:
        raise InvalidInput("resourcePath", "names no group: expected groups/<id> (or representation.id)")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput("representation.id", "a Keycloak group id is a UUID") from None


# endregion


def _decode(body: bytes) -> _AdminEvent:
    try:
        return msgspec.json.decode(body, type=_AdminEvent)
    except msgspec.ValidationError as exc:
        raise _invalid("", exc) from None
    except msgspec.DecodeError as exc:
        raise InvalidInput("body", f"not valid JSON: {exc}") from None
    except UnicodeDecodeError:  # msgspec raises it bare for bytes in a string that are not UTF-8
        raise InvalidInput("body", "not UTF-8: JSON text must be UTF-8 (RFC 8259)") from None
    except RecursionError:  # msgspec has no depth option: a body nested ~50,000 deep overflows it
        raise InvalidInput("body", "JSON nested too deeply") from None


def _kind(event: _AdminEvent) -> tuple[str | None, str | None]:
    resource, operation = event.resource_type, event.operation_type
    if (resource is None or operation is None) and event.type and event.type.startswith("admin."):
        named_resource, dash, named_operation = event.type.removeprefix("admin.").rpartition("-")
        if not dash:  # "admin.USER": a resource without an operation
            named_resource, named_operation = named_operation, ""
        resource = resource or named_resource or None
        operation = operation or named_operation or None
    return resource, operation


def _representation(value: str | dict[str, Any] | None) -> _UserRepresentation | None:
    return _decode_representation(value, _UserRepresentation)


def _decode_representation[R](value: str | dict[str, Any] | None, shape: type[R]) -> R | None:
    if value is None:
        return None
    try:
        if isinstance(value, str):
            return msgspec.json.decode(value, type=shape)
        return msgspec.convert(value, shape)
    except msgspec.ValidationError as exc:
        raise _invalid("representation", exc) from None
    except msgspec.DecodeError as exc:
        raise InvalidInput("representation", f"not a JSON document: {exc}") from None
    except RecursionError:
        raise InvalidInput("representation", "JSON nested too deeply") from None


def _user_id(representation: _UserRepresentation | None, resource_path: str | None) -> uuid.UUID:
    from_path = None
    if resource_path is not None:
        match = _USER_PATH.match(resource_path)
        if match is None:
            raise InvalidInput("resourcePath", "a USER event's path is users/<id>")
        from_path = match.group(1)
    from_representation = representation.id if representation is not None else None
    if from_path and from_representation and from_path != from_representation:
        raise InvalidInput("representation.id", "does not match the id in resourcePath")
    subject = from_representation or from_path
    if not subject:
        raise InvalidInput("resourcePath", "names no user: expected users/<id> (or representation.id)")
    if len(subject) > _ID_MAX_LENGTH:
        raise InvalidInput("resourcePath", f"the user id is longer than {_ID_MAX_LENGTH} characters")
    return user_id_from_subject(subject)


def _full_name(representation: _UserRepresentation) -> str | msgspec.UnsetType | None:
    first, last = representation.first_name, representation.last_name
    if first is msgspec.UNSET and last is msgspec.UNSET:
        return msgspec.UNSET
    parts = [part.strip() for part in (first, last) if isinstance(part, str) and part.strip()]
    return " ".join(parts) or None


def _blank_is_none(value: str | msgspec.UnsetType | None) -> str | msgspec.UnsetType | None:
    return value if value is msgspec.UNSET else value or None


def _invalid(prefix: str, exc: msgspec.ValidationError) -> InvalidInput:
    """msgspec's "Expected `int`, got `str` - at `$.time`" as field "time" and its message."""
    message, sep, path = str(exc).rpartition(" - at `$")
    if not sep:
        return InvalidInput(prefix or "body", str(exc))
    field = path.rstrip("`").lstrip(".")
    field = ".".join(part for part in (prefix, field) if part) or "body"
    return InvalidInput(field, message)
