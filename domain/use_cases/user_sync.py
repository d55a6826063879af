"""Keeping the users table in step with the identity provider (Keycloak's webhook)."""

from __future__ import annotations

import logging
from typing import Literal

from domain.model import User, UserEvent
from domain.ports import Clock, UnitOfWorkFactory, UserEventSource

log = logging.getLogger(__name__)

type SyncOutcome = Literal["ignored", "created", "updated", "unchanged", "stale"]


class SyncUser:
    """Apply one signed delivery: an idempotent upsert, ordered by the event's time.

    An event older than the last one applied to the row is ignored (deliveries can overtake each
    other); the same event twice changes nothing the second time. A deletion deactivates the
    user: the row, and the posts that point at it, stay.
    """

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, events: UserEventSource) -> None:
        self._uow = uow
        self._clock = clock
        self._events = events

    async def __call__(self, body: bytes, signature: str | None) -> SyncOutcome:
        event = self._events.read(body, signature)
        if event is None:
            return "ignored"
        outcome = await self.apply(event)
        log.info("user %s synced from an event of %d: %s", event.user_id, event.time_ms, outcome)
        return outcome

    async def apply(self, event: UserEvent) -> SyncOutcome:
        now = self._clock.now()
        async with self._uow() as uow:
            stored = await uow.users.get(event.user_id, for_update=True)
            created = stored is None
            if stored is None:
                # Insert-if-absent, then lock whatever is there: ours, or the row of a concurrent
                # delivery for the same new user, to which the ordering rule below then applies.
                await uow.users.add_if_absent(User.from_event(event, now))
                stored = await uow.users.get(event.user_id, for_update=True)
                assert stored is not None
            if stored.knows_newer_than(event):
                return "stale"
            updated = stored.synced(event, now)
            if updated != stored:
                await uow.users.save(updated)
            await uow.commit()
        return "created" if created else "unchanged" if updated == stored else "updated"
