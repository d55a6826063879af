"""Entities and value rules. Plain msgspec structs: cheap to build, immutable, easy to copy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Self

import msgspec

from domain.errors import InvalidInput

CONTENT_MAX_LENGTH = 10_000
USERNAME_MAX_LENGTH = 255
FULL_NAME_MAX_LENGTH = 255
EMAIL_MAX_LENGTH = 320
NEVER = datetime(1970, 1, 1, tzinfo=UTC)

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


class UserEvent(msgspec.Struct, frozen=True):
    """A change to a user's record announced by the identity provider (Keycloak's admin events).

    ``time_ms`` is when it happened there; it orders deliveries that arrive late or twice.
    A field left UNSET was not in the event: the stored value stays. ``deleted`` deactivates.
    """

    user_id: uuid.UUID
    time_ms: int
    deleted: bool = False
    username: str | msgspec.UnsetType = msgspec.UNSET
    full_name: str | msgspec.UnsetType | None = msgspec.UNSET
    email: str | msgspec.UnsetType | None = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if isinstance(self.username, str) and not 1 <= len(self.username) <= USERNAME_MAX_LENGTH:
            raise InvalidInput("username", f"must be 1–{USERNAME_MAX_LENGTH} characters")
        if isinstance(self.full_name, str) and len(self.full_name) > FULL_NAME_MAX_LENGTH:
            raise InvalidInput("full_name", f"must be at most {FULL_NAME_MAX_LENGTH} characters")
        if isinstance(self.email, str) and len(self.email) > EMAIL_MAX_LENGTH:
            raise InvalidInput("email", f"must be at most {EMAIL_MAX_LENGTH} characters")


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

    @classmethod
    def from_event(cls, event: UserEvent, now: datetime) -> Self:
        """The first record of a user we hear about from the identity provider.

        A deletion that overtook the creation leaves an inactive row named by its id, so that
        the late creation (older) cannot bring the user back.
        """
        blank = cls(
            id=event.user_id,
            username=str(event.user_id),
            full_name=None,
            email=None,
            is_active=True,
            created_at=now,
            updated_at=now,
        )
        return blank.synced(event, now)

    def knows_newer_than(self, event: UserEvent) -> bool:
        return self.synced_at_ms is not None and event.time_ms < self.synced_at_ms

    def synced(self, event: UserEvent, now: datetime) -> Self:
        """This record with the event applied; ``updated_at`` moves only if a visible field changed."""
        changes: dict[str, object] = {"synced_at_ms": max(event.time_ms, self.synced_at_ms or event.time_ms)}
        if event.deleted:
            changes["is_active"] = False
        else:
            for name in ("username", "full_name", "email"):
                value = getattr(event, name)
                if value is not msgspec.UNSET:
                    changes[name] = value
            if event.enabled is not msgspec.UNSET:
                changes["is_active"] = event.enabled
        if any(getattr(self, name) != value for name, value in changes.items() if name != "synced_at_ms"):
            changes["updated_at"] = now
        return msgspec.structs.replace(self, **changes)


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

    @classmethod
    def initial(cls) -> Self:
        """What holds before anyone has set it: not in maintenance, "changed" at the Unix epoch."""
        return cls(maintenance=False, updated_at=NEVER)
