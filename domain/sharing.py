"""Sharing a post with editors (users, or the members of a Keycloak group), and the groups
themselves, kept in step with Keycloak: the entities and the ports the use cases reach them through.

The rows are the source of truth (domain/policy.py states who may do what; adapters/authz/ answer
it): the built-in authorizer reads them.
# region: openfga
Every change to them is also written to the outbox, which mirrors it into OpenFGA.
# endregion
"""

from __future__ import annotations

import uuid
from typing import Protocol

import msgspec

GROUP_NAME_MAX_LENGTH = 255
GROUP_PATH_MAX_LENGTH = 1024


class Editors(msgspec.Struct, frozen=True):
    """Who a post is shared with: users, and groups whose members are editors."""

    users: list[uuid.UUID]
    groups: list[uuid.UUID]


class Group(msgspec.Struct, frozen=True):
    """A Keycloak group, as its admin events last described it. A deleted group stays as a
    tombstone (Keycloak never reuses a group id), so that a late event about it changes nothing."""

    id: uuid.UUID
    name: str
    path: str
    synced_at_ms: int
    deleted: bool = False


class Membership(msgspec.Struct, frozen=True):
    """Whether a user is a member of a group, as of the Keycloak event at ``synced_at_ms``. A left
    membership stays (``active`` false) so that an older, late ``CREATE`` cannot bring it back."""

    group_id: uuid.UUID
    user_id: uuid.UUID
    active: bool
    synced_at_ms: int


class GroupEvent(msgspec.Struct, frozen=True):
    """A Keycloak ``GROUP`` admin event: created or renamed (name and path), or deleted."""

    group_id: uuid.UUID
    time_ms: int
    name: str | None = None
    path: str | None = None
    deleted: bool = False


class MembershipEvent(msgspec.Struct, frozen=True):
    """A Keycloak ``GROUP_MEMBERSHIP`` admin event: ``user_id`` joined (or left) the group."""

    user_id: uuid.UUID
    group: GroupEvent
    joined: bool

    @property
    def time_ms(self) -> int:
        return self.group.time_ms


class SharingRepository(Protocol):
    """A post's editors. Calls join the unit of work open in the caller's task, if any. Each change
    says whether it changed anything: a repeated one changes nothing and records nothing."""

    async def add_user(self, post_id: uuid.UUID, user_id: uuid.UUID) -> bool: ...

    async def remove_user(self, post_id: uuid.UUID, user_id: uuid.UUID) -> bool: ...

    async def add_group(self, post_id: uuid.UUID, group_id: uuid.UUID) -> bool: ...

    async def remove_group(self, post_id: uuid.UUID, group_id: uuid.UUID) -> bool: ...

    async def editors(self, post_id: uuid.UUID) -> Editors:
        """Sorted by id: a stable answer."""
        ...


class GroupRepository(Protocol):
    """Keycloak groups and their members. Calls join the unit of work open in the caller's task."""

    async def get(self, group_id: uuid.UUID, *, for_update: bool = False) -> Group | None: ...

    async def add_if_absent(self, group: Group) -> None: ...

    async def save(self, group: Group) -> None:
        """Insert or update by id."""
        ...

    async def membership(self, group_id: uuid.UUID, user_id: uuid.UUID) -> Membership | None: ...

    async def save_membership(self, membership: Membership) -> None:
        """Insert or update by (group, user)."""
        ...

    async def end(self, group_id: uuid.UUID) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
        """Delete every membership and every share of the group; return the users who were members
        and the posts it was an editor of."""
        ...
