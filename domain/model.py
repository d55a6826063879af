"""Entities and value rules. Plain msgspec structs: cheap to build, immutable, easy to copy."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

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


def clean_content(raw: str, field: str = "content") -> str:
    content = raw.strip()
    if not content:
        raise InvalidInput(field, "must not be empty or only whitespace")
    if len(content) > CONTENT_MAX_LENGTH:
        raise InvalidInput(field, f"must be at most {CONTENT_MAX_LENGTH} characters after trimming")
    if "\x00" in content:  # PostgreSQL text cannot hold it; refused on every engine alike
        raise InvalidInput(field, "must not contain NUL characters")
    return content


class Principal(msgspec.Struct, frozen=True):
    """The authenticated caller, as the token says. Built by the token verifier."""

    id: uuid.UUID
    username: str
    full_name: str | None = None
    email: str | None = None
    roles: frozenset[str] = frozenset()
    client_roles: frozenset[str] = frozenset()
    is_admin: bool = False


class User(msgspec.Struct, frozen=True):
    id: uuid.UUID
    username: str
    full_name: str | None
    email: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime
    # Keycloak event time (ms) of the last webhook event applied; orders out-of-order deliveries.
    synced_at_ms: int | None = None

    @classmethod
    def from_principal(cls, principal: Principal, now: datetime) -> Self:
        return cls(
            id=principal.id,
            username=principal.username,
            full_name=principal.full_name,
            email=principal.email,
            is_active=True,
            created_at=now,
            updated_at=now,
        )


class Post(msgspec.Struct, frozen=True):
    id: uuid.UUID
    owner_id: uuid.UUID
    content: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def new(cls, owner_id: uuid.UUID, content: str, now: datetime) -> Self:
        return cls(id=uuid.uuid4(), owner_id=owner_id, content=clean_content(content), created_at=now, updated_at=now)

    def revised(self, content: str, now: datetime) -> Self:
        return msgspec.structs.replace(self, content=clean_content(content), updated_at=now, version=self.version + 1)


class Comment(msgspec.Struct, frozen=True):
    id: uuid.UUID
    post_id: uuid.UUID
    owner_id: uuid.UUID
    content: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def new(cls, post_id: uuid.UUID, owner_id: uuid.UUID, content: str, now: datetime) -> Self:
        return cls(
            id=uuid.uuid4(),
            post_id=post_id,
            owner_id=owner_id,
            content=clean_content(content),
            created_at=now,
            updated_at=now,
        )

    def revised(self, content: str, now: datetime) -> Self:
        return msgspec.structs.replace(self, content=clean_content(content), updated_at=now, version=self.version + 1)


class ServiceContext(msgspec.Struct, frozen=True):
    maintenance: bool
    updated_at: datetime
    updated_by: uuid.UUID | None = None
