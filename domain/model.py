"""The caller, and the value rules every resource shares. Each resource's entity and ports are in its
own module (domain/posts.py, domain/users.py, ...). Entities are plain msgspec structs: cheap to
build, immutable, easy to copy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import overload

import msgspec

from domain.errors import InvalidInput

CONTENT_MAX_LENGTH = 10_000

# Keycloak's subject is a UUID for its own users but not for federated ones ("f:<provider>:<id>").
# Those map to a stable UUIDv5 so that the token path and the webhook path agree on the user id.
_SUBJECT_NAMESPACE = uuid.UUID("8c2b3f6e-5f0c-4d55-9a1e-2f4f0b0c7d11")


def user_id_from_subject(subject: str) -> uuid.UUID:
    try:
        return uuid.UUID(subject)
    except ValueError:
        return uuid.uuid5(_SUBJECT_NAMESPACE, subject)


@overload
def clean_content(raw: str, field: str = "content", max_length: int = CONTENT_MAX_LENGTH) -> str: ...
@overload
def clean_content(raw: None, field: str = "content", max_length: int = CONTENT_MAX_LENGTH) -> None: ...
def clean_content(raw: str | None, field: str = "content", max_length: int = CONTENT_MAX_LENGTH) -> str | None:
    """Trimmed, not empty, at most ``max_length`` characters, no NUL; None stays None (an optional field)."""
    if raw is None:
        return None
    content = raw.strip()
    if not content:
        raise InvalidInput(field, "must not be empty or only whitespace")
    if len(content) > max_length:
        raise InvalidInput(field, f"must be at most {max_length} characters after trimming")
    if "\x00" in content:  # PostgreSQL text cannot hold it; refused on every engine alike
        raise InvalidInput(field, "must not contain NUL characters")
    return content


@overload
def clean_instant(value: datetime, field: str) -> datetime: ...
@overload
def clean_instant(value: None, field: str) -> None: ...
def clean_instant(value: datetime | None, field: str) -> datetime | None:
    """The same instant in UTC, as the databases give it back; None stays None. An instant whose UTC
    time falls outside years 1–9999 (0001-01-01T00:30:00+01:00) is refused rather than overflowing in
    the driver."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(field, "must fall within years 1–9999 in UTC") from None


class Principal(msgspec.Struct, frozen=True):
    """The authenticated caller, as the token says. Built by the token verifier."""

    id: uuid.UUID
    username: str
    full_name: str | None = None
    email: str | None = None
    roles: frozenset[str] = frozenset()
    client_roles: frozenset[str] = frozenset()
    is_admin: bool = False
