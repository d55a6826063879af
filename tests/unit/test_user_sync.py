"""The user-sync rule with in-memory fakes: idempotent upsert, ordered by the event's time."""

from __future__ import annotations

import uuid

import msgspec
import pytest

from domain.errors import InvalidInput
from domain.use_cases.user_sync import SyncUser
from domain.use_cases.users import GetCurrentUser
from domain.users import User, UserEvent, UserEventSource
from tests.fakes import Fakes, principal

USER = uuid.UUID("0c7d8e9f-1a2b-4c3d-8e4f-5a6b7c8d9e0f")


class Events:
    """A UserEventSource that hands over prepared events (the format is the adapter's business)."""

    def __init__(self) -> None:
        self.next: UserEvent | None = None

    def read(self, body: bytes, signature: str | None) -> UserEvent | None:
        return self.next


def upsert(time_ms: int, **fields: object) -> UserEvent:
    values = {"username": "alice", "full_name": "Alice Anderson", "email": "alice@example.com", "enabled": True}
    return UserEvent(user_id=USER, time_ms=time_ms, **{**values, **fields})  # type: ignore[arg-type]


def delete(time_ms: int) -> UserEvent:
    return UserEvent(user_id=USER, time_ms=time_ms, deleted=True)


@pytest.fixture
def fakes() -> Fakes:
    fakes = Fakes()
    fakes.ports[UserEventSource] = Events()
    return fakes


@pytest.fixture
def sync(fakes: Fakes) -> SyncUser:
    return fakes[SyncUser]


def stored(fakes: Fakes) -> User:
    return fakes.db["users"][USER]


async def test_create_then_update_then_delete(sync, fakes):
    assert await sync.apply(upsert(1)) == "created"
    assert (stored(fakes).username, stored(fakes).full_name, stored(fakes).is_active) == (
        "alice",
        "Alice Anderson",
        True,
    )
    assert await sync.apply(upsert(2, username="alice2", email="new@example.com")) == "updated"
    assert (stored(fakes).username, stored(fakes).email, stored(fakes).synced_at_ms) == ("alice2", "new@example.com", 2)
    assert await sync.apply(delete(3)) == "updated"
    assert stored(fakes).is_active is False
    assert stored(fakes).username == "alice2", "a deletion keeps the record (and its posts)"


async def test_the_same_event_twice_changes_nothing_the_second_time(sync, fakes):
    await sync.apply(upsert(1))
    first = stored(fakes)
    assert await sync.apply(upsert(1)) == "unchanged"
    assert stored(fakes) == first
    await sync.apply(delete(2))
    deleted = stored(fakes)
    assert await sync.apply(delete(2)) == "unchanged"
    assert stored(fakes) == deleted


async def test_an_older_event_is_ignored(sync, fakes):
    await sync.apply(upsert(10, username="newer"))
    assert await sync.apply(upsert(5, username="older")) == "stale"
    assert stored(fakes).username == "newer"


async def test_a_deletion_that_overtook_the_creation_wins(sync, fakes):
    assert await sync.apply(delete(20)) == "created"
    assert stored(fakes).is_active is False
    assert await sync.apply(upsert(10)) == "stale", "the late creation cannot bring the user back"
    assert stored(fakes).is_active is False


async def test_updated_at_moves_only_with_a_visible_change(sync, fakes):
    await sync.apply(upsert(1))
    before = stored(fakes)
    assert await sync.apply(upsert(2)) == "updated"  # same fields, newer time: only the time is kept
    assert (stored(fakes).updated_at, stored(fakes).synced_at_ms) == (before.updated_at, 2)
    await sync.apply(upsert(3, full_name="Alice A."))
    assert stored(fakes).updated_at > before.updated_at
    assert stored(fakes).created_at == before.created_at


async def test_fields_missing_from_the_event_keep_their_value(sync, fakes):
    await sync.apply(upsert(1))
    await sync.apply(UserEvent(user_id=USER, time_ms=2, enabled=False))
    assert (stored(fakes).username, stored(fakes).email, stored(fakes).is_active) == (
        "alice",
        "alice@example.com",
        False,
    )


async def test_an_event_for_a_user_first_seen_through_a_token_updates_it(fakes):
    me = principal("dora")
    await fakes[GetCurrentUser](me)
    event = UserEvent(user_id=me.id, time_ms=1, username="dora", full_name="Dora Explorer", enabled=True)
    assert await fakes[SyncUser].apply(event) == "updated"
    assert fakes.db["users"][me.id].full_name == "Dora Explorer"


async def test_call_reads_the_delivery_and_ignores_what_is_not_about_users(fakes):
    events = fakes.ports[UserEventSource]
    sync = fakes[SyncUser]
    assert await sync(b"{}", "sig") == "ignored"
    assert not fakes.uow.opened, "nothing to do: no unit of work"
    events.next = upsert(1)
    assert await sync(b"{}", "sig") == "created"


def test_the_event_checks_its_own_lengths():
    with pytest.raises(InvalidInput):
        UserEvent(user_id=USER, time_ms=1, username="")
    with pytest.raises(InvalidInput):
        UserEvent(user_id=USER, time_ms=1, email="x" * 321)
    assert UserEvent(user_id=USER, time_ms=1).username is msgspec.UNSET
