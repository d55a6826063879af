"""Paging by cursor on SQLite and PostgreSQL: walking every page by ``next_cursor`` serves the rows
of one big page, once each and in order, for every sort field, order and set of filters, with many
rows sharing a timestamp; a cursor is refused on another listing or with other filters."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from adapters.db.comments import PiccoloCommentReader, PiccoloCommentRepository
from adapters.db.posts import PiccoloPostReader, PiccoloPostRepository
from adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from adapters.db.users import PiccoloUserRepository
from domain.comments import Comment, CommentQuery
from domain.errors import InvalidInput
from domain.listing import ListQuery, SortField, SortOrder
from domain.posts import Post
from domain.users import User

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def user(name: str) -> User:
    return User(uuid.uuid5(uuid.NAMESPACE_DNS, name), name, None, None, True, T0, T0)


async def walk(reader: Any, query: Any) -> list[Any]:
    """Every row of the listing, page by page, following next_cursor until it is None."""
    seen: list[Any] = []
    page = await reader.list(query)
    while True:
        seen += page.items
        assert len(page.items) <= query.limit
        if page.next_cursor is None:
            return seen
        assert len(page.items) == query.limit
        page = await reader.list(msgspec.structs.replace(query, cursor=page.next_cursor))


@pytest.fixture
async def stored(engine) -> dict[str, Any]:
    """Two users, two posts, 23 comments: created_at in groups of four equal instants, updated_at in
    groups of three, so that pages end in the middle of ties."""
    alice, bob = user("alice"), user("bob")
    posts = [Post(uuid.uuid4(), alice.id, f"post {i}", T0 + timedelta(seconds=i // 2), T0) for i in range(5)]
    comments = []
    for i in range(23):
        created = T0 + timedelta(minutes=i // 4)
        updated = T0 + timedelta(minutes=(5 * i) % 23 // 3)
        comments.append(Comment(uuid.uuid4(), posts[i % 2].id, (alice if i % 3 else bob).id, f"c{i}", created, updated))
    async with PiccoloUnitOfWorkFactory(engine)() as tx:
        for u in (alice, bob):
            await PiccoloUserRepository(engine).add_if_absent(u)
        for post in posts:
            await PiccoloPostRepository(engine).add(post)
        for comment in comments:
            await PiccoloCommentRepository(engine).add(comment)
        await tx.commit()
    return {"alice": alice, "posts": posts, "comments": comments}


async def test_walking_by_cursor_serves_each_row_once_in_order_for_every_variant(engine, stored):
    alice, posts, comments = stored["alice"], stored["posts"], stored["comments"]
    filters = {
        "owner_id": (alice.id, lambda c: c.owner_id == alice.id),
        "post_id": (posts[0].id, lambda c: c.post_id == posts[0].id),
        "from_date": (T0 + timedelta(minutes=1), lambda c: c.created_at >= T0 + timedelta(minutes=1)),
        "to_date": (T0 + timedelta(minutes=4), lambda c: c.created_at <= T0 + timedelta(minutes=4)),
    }
    reader = PiccoloCommentReader(engine)
    for count in range(len(filters) + 1):
        for chosen in itertools.combinations(filters, count):
            for sort_by, order in itertools.product(SortField, SortOrder):
                expected = [c for c in comments if all(filters[name][1](c) for name in chosen)]
                expected.sort(key=lambda c: (getattr(c, sort_by.value), c.id), reverse=order is SortOrder.desc)
                values = {name: filters[name][0] for name in chosen}
                for limit in (2, 3):
                    query = CommentQuery(**values, sort_by=sort_by, order=order, limit=limit)
                    assert await walk(reader, query) == expected, (chosen, sort_by, order, limit)


async def test_post_pages_by_cursor_match_one_big_page_and_carry_the_total(engine, stored):
    reader = PiccoloPostReader(engine)
    for sort_by, order in itertools.product(SortField, SortOrder):
        everything = await reader.list(ListQuery(sort_by=sort_by, order=order, limit=100))
        assert everything.next_cursor is None
        first = await reader.list(ListQuery(sort_by=sort_by, order=order, limit=2))
        second = await reader.list(ListQuery(sort_by=sort_by, order=order, limit=2, cursor=first.next_cursor))
        assert (second.total, second.offset, second.limit) == (5, 0, 2)
        assert first.items + second.items == everything.items[:4]
        assert await walk(reader, ListQuery(sort_by=sort_by, order=order, limit=2)) == everything.items


async def test_a_page_by_offset_gives_the_cursor_of_the_page_after_it(engine, stored):
    reader = PiccoloPostReader(engine)
    by_offset = await reader.list(ListQuery(limit=2, offset=2))
    after = await reader.list(ListQuery(limit=2, cursor=by_offset.next_cursor))
    assert after.items == (await reader.list(ListQuery(limit=2, offset=4))).items
    assert after.next_cursor is None  # 5 posts: the last page
    exact = await reader.list(ListQuery(limit=5))
    assert (len(exact.items), exact.next_cursor) == (5, None)  # a full last page has no next page


async def test_a_cursor_still_continues_after_its_row_is_deleted(engine, stored):
    reader = PiccoloPostReader(engine)
    first = await reader.list(ListQuery(sort_by=SortField.created_at, limit=2))
    async with PiccoloUnitOfWorkFactory(engine)() as tx:
        await PiccoloPostRepository(engine).delete(first.items[-1].id)
        await tx.commit()
    rest = await reader.list(ListQuery(sort_by=SortField.created_at, limit=10, cursor=first.next_cursor))
    everything = await reader.list(ListQuery(sort_by=SortField.created_at, limit=10))
    assert rest.items == everything.items[1:]
    assert rest.total == 4


async def test_a_cursor_is_refused_on_another_listing_with_other_filters_or_order(engine, stored):
    posts, comments = PiccoloPostReader(engine), PiccoloCommentReader(engine)
    of_posts = (await posts.list(ListQuery(limit=1))).next_cursor
    of_comments = (await comments.list(CommentQuery(limit=1))).next_cursor
    refused = [
        (comments, CommentQuery(cursor=of_posts)),
        (posts, ListQuery(cursor=of_comments)),
        (posts, ListQuery(cursor=of_posts, owner_id=stored["alice"].id)),
        (posts, ListQuery(cursor=of_posts, order=SortOrder.asc)),
        (posts, ListQuery(cursor=of_posts, sort_by=SortField.created_at)),
        (posts, ListQuery(cursor=of_posts[:-3] + ("A" if of_posts[-3] != "A" else "B") + of_posts[-2:])),
        (posts, ListQuery(cursor="not a cursor")),
    ]
    for reader, query in refused:
        with pytest.raises(InvalidInput) as refusal:
            await reader.list(query)
        assert refusal.value.field == "cursor"
    assert (await posts.list(ListQuery(cursor=of_posts, limit=7))).items  # another limit is the same listing
