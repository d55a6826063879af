"""Keeping the users table in step with the identity provider (Keycloak's webhook)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from domain.ports import Clock, UnitOfWorkFactory
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
    clock: Clock
    events: UserEventSource

    async def __call__(self, body: bytes, signature: str | None) -> SyncOutcome:
        event = self.events.read(body, signature)
        if event is None:
            return "ignored"
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
