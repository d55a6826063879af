"""Users: the record of each caller, kept in step with the identity provider, and its ports."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol, Self

import msgspec

from domain.errors import InvalidInput
from domain.model import Principal
from domain.sharing import GroupEvent, MembershipEvent

USERNAME_MAX_LENGTH = 255
FULL_NAME_MAX_LENGTH = 255
EMAIL_MAX_LENGTH = 320


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


class UserRepository(Protocol):
    """Load and save users. Calls join the unit of work open in the caller's task, if any."""

    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None: ...

    async def add_if_absent(self, user: User) -> User:
        """Insert ``user`` unless a row with its id exists; return the stored row."""
        ...

    async def save(self, user: User) -> None:
        """Insert or update by id (keeping the stored ``created_at``)."""
        ...


# What the identity provider's events announce that the service keeps: users' records, and the
# groups and memberships that sharing a post with a group relies on.
type IdentityEvent = (
    UserEvent
    # region: blog
    | GroupEvent
    | MembershipEvent
    # endregion
)


class UserEventSource(Protocol):
    def read(self, body: bytes, signature: str | None) -> IdentityEvent | None:
        """Authenticate one delivery from the identity provider, then decode it.

        None: a well-formed event about nothing ``IdentityEvent`` names (ignored). Raises
        ``DependencyUnavailable`` when no shared secret is configured, ``BadSignature`` when the
        signature is missing or wrong (checked before anything is parsed), and ``InvalidInput``
        when the body is malformed.
        """
        ...
