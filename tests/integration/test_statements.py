"""The repositories' prebuilt statements, on SQLite and PostgreSQL: every listing variant agrees with a
plain filter-and-sort over the same rows, and the rarely used statements round-trip."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from domain.listing import ListQuery, SortField, SortOrder
from domain.model import Comment, Post, ServiceContext, User

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def user(name: str) -> User:
    return User(uuid.uuid5(uuid.NAMESPACE_DNS, name), name, None, None, True, T0, T0)


@pytest.fixture
def uow(engine) -> PiccoloUnitOfWorkFactory:
    return PiccoloUnitOfWorkFactory(engine)


async def test_every_comment_listing_variant_matches_a_plain_filter_and_sort(uow):
    alice, bob = user("alice"), user("bob")
    posts = [Post(uuid.uuid4(), alice.id, f"post {i}", T0, T0) for i in range(2)]
    comments = []
    for i in range(12):
        created = T0 + timedelta(minutes=i)
        updated = T0 + timedelta(minutes=(7 * i) % 12)  # another order than created_at
        owner = alice if i % 3 else bob
        comments.append(Comment(uuid.uuid4(), posts[i % 2].id, owner.id, f"c{i}", created, updated))
    async with uow() as tx:
        for u in (alice, bob):
            await tx.users.add_if_absent(u)
        for post in posts:
            await tx.posts.add(post)
        for comment in comments:
            await tx.comments.add(comment)
        await tx.commit()

    filters = {
        "owner_id": (alice.id, lambda c: c.owner_id == alice.id),
        "post_id": (posts[0].id, lambda c: c.post_id == posts[0].id),
        "from_date": (T0 + timedelta(minutes=2), lambda c: c.created_at >= T0 + timedelta(minutes=2)),
        "to_date": (T0 + timedelta(minutes=9), lambda c: c.created_at <= T0 + timedelta(minutes=9)),
    }
    async with uow(read_only=True) as read:
        for count in range(len(filters) + 1):
            for chosen in itertools.combinations(filters, count):
                for sort_by, order in itertools.product(SortField, SortOrder):
                    query = ListQuery(
                        **{name: filters[name][0] for name in chosen},
                        sort_by=sort_by,
                        order=order,
                        limit=3,
                        offset=1,
                    )
                    expected = [c for c in comments if all(filters[name][1](c) for name in chosen)]
                    expected.sort(key=lambda c: (getattr(c, sort_by.value), c.id), reverse=order is SortOrder.desc)
                    items, total = await read.comments.list(query)
                    assert (items, total) == (expected[1:4], len(expected)), (chosen, sort_by, order)


async def test_an_empty_first_page_counts_nothing_and_a_page_past_the_end_still_has_the_total(uow):
    alice = user("alice")
    async with uow() as tx:
        await tx.users.add_if_absent(alice)
        await tx.posts.add(Post(uuid.uuid4(), alice.id, "only", T0, T0))
        await tx.commit()
    async with uow(read_only=True) as read:
        assert await read.posts.list(ListQuery(owner_id=uuid.uuid4())) == ([], 0)
        assert await read.posts.list(ListQuery(offset=5)) == ([], 1)


async def test_service_context_round_trips_and_is_updated_in_place(uow):
    async with uow(read_only=True) as read:
        assert await read.service_context.get() is None
    first = ServiceContext(maintenance=True, updated_at=T0, updated_by=uuid.uuid4())
    second = ServiceContext(maintenance=False, updated_at=T0 + timedelta(hours=1), updated_by=None)
    for context in (first, second):
        async with uow() as tx:
            await tx.service_context.save(context)
            await tx.commit()
        async with uow(read_only=True) as read:
            assert await read.service_context.get() == context


async def test_a_user_can_be_read_for_update_inside_a_unit_of_work(uow):
    alice = user("alice")
    async with uow() as tx:
        await tx.users.add_if_absent(alice)
        assert await tx.users.get(alice.id, for_update=True) == alice
        await tx.commit()
