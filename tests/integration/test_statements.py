"""The repositories' and readers' statements, on SQLite and PostgreSQL: every listing variant agrees
with a plain filter-and-sort over the same rows, and the rarely used statements round-trip."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.db.comments import PiccoloCommentReader, PiccoloCommentRepository
from adapters.db.posts import PiccoloPostReader, PiccoloPostRepository
from adapters.db.service_context import PiccoloServiceContextRepository
from adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from adapters.db.users import PiccoloUserRepository
from domain.comments import Comment, CommentQuery
from domain.listing import SortField, SortOrder
from domain.posts import Post, PostQuery
from domain.service_context import ServiceContext
from domain.users import User

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def user(name: str) -> User:
    return User(uuid.uuid5(uuid.NAMESPACE_DNS, name), name, None, None, True, T0, T0)


@pytest.fixture
def uow(engine) -> PiccoloUnitOfWorkFactory:
    return PiccoloUnitOfWorkFactory(engine)


# region: blog
async def test_every_comment_listing_variant_matches_a_plain_filter_and_sort(engine, uow):
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
            await PiccoloUserRepository(engine).add_if_absent(u)
        for post in posts:
            await PiccoloPostRepository(engine).add(post)
        for comment in comments:
            await PiccoloCommentRepository(engine).add(comment)
        await tx.commit()

    filters = {
        "owner_id": (alice.id, lambda c: c.owner_id == alice.id),
        "post_id": (posts[0].id, lambda c: c.post_id == posts[0].id),
        "from_date": (T0 + timedelta(minutes=2), lambda c: c.created_at >= T0 + timedelta(minutes=2)),
        "to_date": (T0 + timedelta(minutes=9), lambda c: c.created_at <= T0 + timedelta(minutes=9)),
    }
    reader = PiccoloCommentReader(engine)
    for count in range(len(filters) + 1):
        for chosen in itertools.combinations(filters, count):
            for sort_by, order in itertools.product(SortField, SortOrder):
                query = CommentQuery(
                    **{name: filters[name][0] for name in chosen},
                    sort_by=sort_by,
                    order=order,
                    limit=3,
                    offset=1,
                )
                expected = [c for c in comments if all(filters[name][1](c) for name in chosen)]
                expected.sort(key=lambda c: (getattr(c, sort_by.value), c.id), reverse=order is SortOrder.desc)
                page = await reader.list(query)
                assert (page.items, page.total) == (expected[1:4], len(expected)), (chosen, sort_by, order)


async def test_an_empty_first_page_counts_nothing_and_a_page_past_the_end_still_has_the_total(engine, uow):
    alice = user("alice")
    async with uow() as tx:
        await PiccoloUserRepository(engine).add_if_absent(alice)
        await PiccoloPostRepository(engine).add(Post(uuid.uuid4(), alice.id, "only", T0, T0))
        await tx.commit()
    reader = PiccoloPostReader(engine)
    nobody = await reader.list(PostQuery(owner_id=uuid.uuid4()))
    assert (nobody.items, nobody.total) == ([], 0)
    past_the_end = await reader.list(PostQuery(offset=5))
    assert (past_the_end.items, past_the_end.total) == ([], 1)


# endregion


async def test_service_context_round_trips_and_is_updated_in_place(engine, uow):
    contexts = PiccoloServiceContextRepository(engine)
    assert await contexts.get() is None
    first = ServiceContext(maintenance=True, updated_at=T0, updated_by=uuid.uuid4())
    second = ServiceContext(maintenance=False, updated_at=T0 + timedelta(hours=1), updated_by=None)
    for context in (first, second):
        async with uow() as tx:
            await contexts.save(context)
            await tx.commit()
        assert await contexts.get() == context


async def test_a_user_can_be_read_for_update_inside_a_unit_of_work(engine, uow):
    alice, users = user("alice"), PiccoloUserRepository(engine)
    async with uow() as tx:
        await users.add_if_absent(alice)
        assert await users.get(alice.id, for_update=True) == alice
        await tx.commit()
