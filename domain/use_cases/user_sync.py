"""Keeping users (and, for sharing, groups and group memberships) in step with the identity provider
(Keycloak's webhook)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import msgspec

from domain.ports import Clock, RelationChange, UnitOfWork, UnitOfWorkFactory
from domain.sharing import Group, GroupEvent, GroupRepository, Membership, MembershipEvent
from domain.users import User, UserEvent, UserEventSource, UserRepository

log = logging.getLogger(__name__)

type SyncOutcome = Literal["ignored", "created", "updated", "unchanged", "stale"]


@dataclass(frozen=True, slots=True)
class SyncUser:
    """Apply one signed delivery: an idempotent upsert, ordered by the event's time.

    An event older than the last one applied to the row is ignored (deliveries can overtake each
    other); the same event twice changes nothing the second time. A deletion deactivates the
    user: the row, and the posts that point at it, stay.
    """

    uow: UnitOfWorkFactory
    users: UserRepository
    # region: blog
    groups: GroupRepository
    # endregion
    clock: Clock
    events: UserEventSource

    async def __call__(self, body: bytes, signature: str | None) -> SyncOutcome:
        event = self.events.read(body, signature)
        if event is None:
            return "ignored"
        # region: blog
        if not isinstance(event, UserEvent):
            outcome = await SyncGroup(self.uow, self.groups).apply(event)
            log.info("group %s synced from an event of %d: %s", _group_id(event), event.time_ms, outcome)
            return outcome
        # endregion
        outcome = await self.apply(event)
        log.info("user %s synced from an event of %d: %s", event.user_id, event.time_ms, outcome)
        return outcome

    async def apply(self, event: UserEvent) -> SyncOutcome:
        now = self.clock.now()
        async with self.uow() as uow:
            stored = await self.users.get(event.user_id, for_update=True)
            created = stored is None
            if stored is None:
                # Insert-if-absent, then lock whatever is there: ours, or the row of a concurrent
                # delivery for the same new user, to which the ordering rule below then applies.
                await self.users.add_if_absent(User.from_event(event, now))
                stored = await self.users.get(event.user_id, for_update=True)
                assert stored is not None
            if stored.knows_newer_than(event):
                return "stale"
            updated = stored.synced(event, now)
            if updated != stored:
                await self.users.save(updated)
            await uow.commit()
        return "created" if created else "unchanged" if updated == stored else "updated"


# region: blog
def _group_id(event: GroupEvent | MembershipEvent) -> object:
    return event.group_id if isinstance(event, GroupEvent) else event.group.group_id


@dataclass(frozen=True, slots=True)
class SyncGroup:
    """Apply a ``GROUP`` or ``GROUP_MEMBERSHIP`` event, ordered by its time like user events.

    Every event about a group first locks the group's row (created from the event if absent), so
    events about one group apply one at a time. A membership keeps the time of the last event
    applied to it, and a deleted group stays as a tombstone: a late or repeated delivery changes
    nothing.
    # region: openfga
    Each change that alters a relationship is written to the outbox with its row.
    # endregion
    """

    uow: UnitOfWorkFactory
    groups: GroupRepository

    async def apply(self, event: GroupEvent | MembershipEvent) -> SyncOutcome:
        async with self.uow() as uow:
            group_event = event if isinstance(event, GroupEvent) else event.group
            created = await self.groups.get(group_event.group_id) is None
            if created:
                await self.groups.add_if_absent(_new_group(group_event))
            group = await self.groups.get(group_event.group_id, for_update=True)
            assert group is not None
            if group.deleted:
                return "stale"  # Keycloak never reuses a group id: nothing can follow its deletion
            if isinstance(event, MembershipEvent):
                outcome = await self._membership(uow, event)
            else:
                outcome = await self._group(uow, group, event)
            await uow.commit()
        return "created" if created and outcome != "stale" else outcome

    async def _group(self, uow: UnitOfWork, group: Group, event: GroupEvent) -> SyncOutcome:
        if event.time_ms < group.synced_at_ms:
            return "stale"
        if event.deleted:
            ended = await self.groups.end(group.id)  # (its members, the posts shared with it)
            await self.groups.save(msgspec.structs.replace(group, deleted=True, synced_at_ms=event.time_ms))
            # region: openfga
            members, posts = ended
            await uow.outbox.record(
                [RelationChange.member("delete", group.id, user_id) for user_id in members]
                + [RelationChange.editor_group("delete", post_id, group.id) for post_id in posts]
            )
            # endregion
            return "updated"
        updated = msgspec.structs.replace(
            group, name=event.name or group.name, path=event.path or group.path, synced_at_ms=event.time_ms
        )
        if updated != group:
            await self.groups.save(updated)
        return "unchanged" if (updated.name, updated.path) == (group.name, group.path) else "updated"

    async def _membership(self, uow: UnitOfWork, event: MembershipEvent) -> SyncOutcome:
        group_id = event.group.group_id
        stored = await self.groups.membership(group_id, event.user_id)
        if stored is not None and event.time_ms < stored.synced_at_ms:
            return "stale"
        await self.groups.save_membership(Membership(group_id, event.user_id, event.joined, event.time_ms))
        if stored is not None and stored.active == event.joined:
            return "unchanged"
        # region: openfga
        if event.joined or stored is not None:  # leaving a group one was never in changes no tuple
            await uow.outbox.record(
                [RelationChange.member("write" if event.joined else "delete", group_id, event.user_id)]
            )
        # endregion
        return "created" if stored is None else "updated"


def _new_group(event: GroupEvent) -> Group:
    """The first record of a group: from its representation, or a bare one named by its id (a
    deletion that overtook the creation leaves a tombstone all the same)."""
    return Group(
        id=event.group_id,
        name=event.name or str(event.group_id),
        path=event.path or "",
        synced_at_ms=event.time_ms,
    )


# endregion
