"""Cursors (domain/listing.py): what one says round-trips, and one that was altered, made by
another listing or under other filters or order is refused; the rules between offset and cursor;
and the fakes page by cursor as the SQL does, so use cases can be tested with them."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from domain.errors import InvalidInput
from domain.listing import MAX_OFFSET, ListQuery, SortField, SortOrder, cursor_after, cursor_position

# region: blog
from domain.use_cases.posts import CreatePost, ListPosts
from tests.fakes import Fakes, principal

# endregion

AT = datetime(2026, 5, 1, 8, 0, 0, 123456, tzinfo=UTC)
ROW = uuid.UUID("0b2d7f4e-8c1a-4b3e-9f6d-5a4c3b2a1f0e")


def refused(listing: str, query: ListQuery) -> str:
    with pytest.raises(InvalidInput) as refusal:
        cursor_position(listing, query)
    assert refusal.value.field == "cursor"
    return refusal.value.message


def test_a_cursor_round_trips_its_position_and_is_short_url_safe_text():
    query = ListQuery(owner_id=ROW, sort_by=SortField.created_at, order=SortOrder.asc)
    cursor = cursor_after("post", query, AT, ROW)
    assert len(cursor) < 64
    assert cursor.isascii()
    assert not set(cursor) & set("+/=&?#% ")
    assert cursor_position("post", msgspec.structs.replace(query, cursor=cursor)) == (AT, ROW)
    assert cursor_position("post", ListQuery()) is None  # no cursor: the first page


def test_a_cursor_is_the_same_listing_whatever_the_page_size():
    cursor = cursor_after("post", ListQuery(limit=5), AT, ROW)
    assert cursor_position("post", ListQuery(limit=50, cursor=cursor)) == (AT, ROW)


def test_a_cursor_carried_elsewhere_is_refused():
    query = ListQuery(owner_id=ROW, from_date=AT - timedelta(days=1))
    cursor = cursor_after("comment", query, AT, ROW)
    elsewhere = [
        ("post", msgspec.structs.replace(query, cursor=cursor)),  # another listing
        ("comment", ListQuery(owner_id=uuid.uuid4(), from_date=query.from_date, cursor=cursor)),  # another filter
        ("comment", ListQuery(owner_id=ROW, cursor=cursor)),  # a filter dropped
        ("comment", msgspec.structs.replace(query, order=SortOrder.asc, cursor=cursor)),
        ("comment", msgspec.structs.replace(query, sort_by=SortField.created_at, cursor=cursor)),
    ]
    for listing, other in elsewhere:
        assert "another listing" in refused(listing, other)


def test_an_altered_or_malformed_cursor_is_refused():
    cursor = cursor_after("post", ListQuery(), AT, ROW)
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    for i in range(len(raw)):  # every byte flipped: a different position, check or a broken token
        tampered = raw.copy()
        tampered[i] ^= 0x01
        text = base64.urlsafe_b64encode(bytes(tampered)).rstrip(b"=").decode()
        refused("post", ListQuery(cursor=text))
    for bad in [
        "",
        "x",
        "not a cursor",
        cursor[:-4],
        cursor + "AA",
        "é" * 8,
        base64.urlsafe_b64encode(b"[1,2]").decode(),
    ]:
        refused("post", ListQuery(cursor=bad))


def test_offset_and_cursor_do_not_go_together_and_offset_is_capped():
    with pytest.raises(InvalidInput) as both:
        ListQuery(offset=0, cursor="anything")
    assert both.value.field == "cursor"
    assert ListQuery(offset=MAX_OFFSET).offset == MAX_OFFSET
    with pytest.raises(InvalidInput) as deep:
        ListQuery(offset=MAX_OFFSET + 1)
    assert deep.value.field == "offset"
    assert "cursor" in deep.value.message


# region: blog
async def test_listing_by_cursor_through_the_use_case_walks_every_post_once():
    fakes = Fakes()
    alice = principal("alice")
    for i in range(7):
        await fakes[CreatePost](alice, f"p{i}")
    query = ListQuery(sort_by=SortField.created_at, order=SortOrder.asc, limit=3)
    seen, page = [], await fakes[ListPosts](query)
    while True:
        seen += [post.content for post in page.items]
        if page.next_cursor is None:
            break
        page = await fakes[ListPosts](msgspec.structs.replace(query, cursor=page.next_cursor))
    assert seen == [f"p{i}" for i in range(7)]
    assert page.total == 7


# endregion
