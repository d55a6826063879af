"""Keycloak admin events as the Phase Two keycloak-events webhook delivers them, signed."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

SECRET = "test-webhook-secret"


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def admin_event(
    operation: str,
    user_id: uuid.UUID | str,
    time_ms: int,
    *,
    username: str = "alice",
    first_name: str | None = "Alice",
    last_name: str | None = "Anderson",
    email: str | None = "alice@example.com",
    enabled: bool = True,
    resource_type: str = "USER",
    phase_two: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """One admin event. ``phase_two=True``: the shape the extension really sends (``type``,
    ``realmId``, no ``realmName``/``resourceType``/``operationType``, no id in the representation)."""
    representation: dict[str, Any] = {
        "username": username,
        "enabled": enabled,
        "emailVerified": True,
        "firstName": first_name,
        "lastName": last_name,
        "email": email,
        "attributes": {},
        "requiredActions": [],
    }
    if not phase_two:
        representation["id"] = str(user_id)
    event: dict[str, Any] = {
        "uid": str(uuid.uuid4()),
        "time": time_ms,
        "realmId": "demo",
        "authDetails": {"realmId": "master", "clientId": "admin-cli", "userId": str(uuid.uuid4()), "ipAddress": "::1"},
        "resourcePath": f"users/{user_id}",
        "details": {},
    }
    if phase_two:
        event["type"] = f"admin.{resource_type}-{operation}"
    else:
        event.update({"realmName": "demo", "resourceType": resource_type, "operationType": operation})
    if operation != "DELETE":
        event["representation"] = json.dumps({k: v for k, v in representation.items() if v is not None})
    event.update(extra)
    return event


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


def group_event(
    operation: str,
    group_id: uuid.UUID | str,
    time_ms: int,
    *,
    user_id: uuid.UUID | str | None = None,
    name: str = "editors",
    path: str | None = None,
    phase_two: bool = False,
) -> dict[str, Any]:
    """A ``GROUP`` admin event (``user_id`` None; path ``groups/<id>``) or a ``GROUP_MEMBERSHIP`` one
    (path ``users/<user>/groups/<group>``), shaped as Keycloak's GroupResource and UserResource
    (joinGroup / removeMembership) send them: the full group representation, except on GROUP DELETE."""
    resource_type = "GROUP" if user_id is None else "GROUP_MEMBERSHIP"
    representation = {
        "id": str(group_id),
        "name": name,
        "path": path or f"/{name}",
        "subGroupCount": 0,
        "subGroups": [],
        "attributes": {},
        "realmRoles": [],
        "clientRoles": {},
        "access": {"view": True, "manage": True, "manageMembership": True},
    }
    event: dict[str, Any] = {
        "uid": str(uuid.uuid4()),
        "time": time_ms,
        "realmId": "demo",
        "authDetails": {"realmId": "master", "clientId": "admin-cli", "userId": str(uuid.uuid4()), "ipAddress": "::1"},
        "resourcePath": f"groups/{group_id}" if user_id is None else f"users/{user_id}/groups/{group_id}",
        "details": {} if user_id is None else {"username": "bob", "email": "bob@example.com"},
    }
    if phase_two:
        event["type"] = f"admin.{resource_type}-{operation}"
    else:
        event.update({"realmName": "demo", "resourceType": resource_type, "operationType": operation})
    if not (resource_type == "GROUP" and operation == "DELETE"):
        event["representation"] = json.dumps(representation)
    return event
