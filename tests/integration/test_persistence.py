"""The Piccolo repositories and unit of work, on SQLite and on PostgreSQL (same tests, both engines)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.authz.builtin import BuiltinAuthorizer
from adapters.db.tables import CommentTable, PostTable, UserTable
from adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from domain.errors import PreconditionFailed
from domain.listing import ListQuery, SortField, SortOrder
from domain.model import Comment, Post, User
from domain.use_cases.posts import CreatePost, UpdatePost
from tests.fakes import FakeClock, principal

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def a_user(name: str = "alice") -> User:
    return User(
        id=uuid.uuid5(uuid.NAMESPACE_DNS, name),
        username=name,
        full_name=name.title(),
        email=None,
        is_active=True,
        created_at=T0,
        updated_at=T0,
    )


@pytest.fixture
def uow(engine) -> PiccoloUnitOfWorkFactory:
    return PiccoloUnitOfWorkFactory(engine)


async def test_rows_round_trip_with_types_intact(uow):
    user = a_user()
    post = Post(id=uuid.uuid4(), owner_id=user.id, content="héllo ✓", created_at=T0, updated_at=T0)
    async with uow() as tx:
        assert await tx.users.add_if_absent(user) == user
        await tx.posts.add(post)
        await tx.commit()

    async with uow(read_only=True) as read:
        stored = await read.posts.get(post.id)
        stored_user = await read.users.get(user.id)
    assert stored == post
    assert stored_user == user
    assert stored.created_at.tzinfo is not None
    assert isinstance(stored.id, uuid.UUID)


async def test_leaving_without_commit_rolls_back(uow):
    async with uow() as tx:
        await tx.users.add_if_absent(a_user())
    assert await UserTable.count() == 0


async def test_a_failure_mid_use_case_leaves_no_row_behind(uow):
    user = a_user()
    with pytest.raises(ZeroDivisionError):
        async with uow() as tx:
            await tx.users.add_if_absent(user)
            await tx.posts.add(Post(id=uuid.uuid4(), owner_id=user.id, content="x", created_at=T0, updated_at=T0))
            _ = 1 / 0
    assert await UserTable.count() == 0
    assert await PostTable.count() == 0


async def test_add_if_absent_keeps_the_first_row(uow):
    async with uow() as tx:
        await tx.users.add_if_absent(a_user())
        again = await tx.users.add_if_absent(
            User(**{**{f: getattr(a_user(), f) for f in User.__struct_fields__}, "username": "changed"})
        )
        await tx.commit()
    assert again.username == "alice"


async def test_save_upserts_and_keeps_created_at(uow):
    user = a_user()
    async with uow() as tx:
        await tx.users.save(user)
        later = T0 + timedelta(hours=1)
        changed = User(
            **{
                **{f: getattr(user, f) for f in User.__struct_fields__},
                "username": "al",
                "created_at": later,
                "updated_at": later,
                "is_active": False,
                "synced_at_ms": 5,
            }
        )
        await tx.users.save(changed)
        await tx.commit()
    async with uow(read_only=True) as read:
        stored = await read.users.get(user.id)
    assert stored is not None
    assert (stored.username, stored.is_active, stored.synced_at_ms) == ("al", False, 5)
    assert stored.created_at == T0


async def test_update_is_a_compare_and_set_on_version(uow):
    user = a_user()
    post = Post(id=uuid.uuid4(), owner_id=user.id, content="v1", created_at=T0, updated_at=T0)
    async with uow() as tx:
        await tx.users.add_if_absent(user)
        await tx.posts.add(post)
        assert await tx.posts.update(post.revised("v2", T0 + timedelta(seconds=1)))
        assert not await tx.posts.update(post.revised("stale", T0 + timedelta(seconds=2))), "version 1 is gone"
        await tx.commit()
    async with uow(read_only=True) as read:
        stored = await read.posts.get(post.id)
    assert (stored.content, stored.version) == ("v2", 2)


async def test_deleting_a_post_cascades_to_its_comments(uow):
    user = a_user()
    post = Post(id=uuid.uuid4(), owner_id=user.id, content="p", created_at=T0, updated_at=T0)
    comment = Comment(id=uuid.uuid4(), post_id=post.id, owner_id=user.id, content="c", created_at=T0, updated_at=T0)
    async with uow() as tx:
        await tx.users.add_if_absent(user)
        await tx.posts.add(post)
        await tx.comments.add(comment)
        assert await tx.comments.ids_of_post(post.id) == [(comment.id, user.id)]
        await tx.posts.delete(post.id)
        await tx.commit()
    assert await CommentTable.count() == 0


async def test_listing_filters_sort_order_paging_and_total(uow):
    alice, bob = a_user("alice"), a_user("bob")
    posts = [
        Post(
            id=uuid.uuid4(),
            owner_id=alice.id,
            content=f"a{i}",
            created_at=T0 + timedelta(minutes=i),
            updated_at=T0 + timedelta(minutes=10 - i),
        )
        for i in range(6)
    ]
    async with uow() as tx:
        for user in (alice, bob):
            await tx.users.add_if_absent(user)
        for post in posts:
            await tx.posts.add(post)
        await tx.posts.add(Post(id=uuid.uuid4(), owner_id=bob.id, content="b", created_at=T0, updated_at=T0))
        await tx.commit()

    async with uow(read_only=True) as read:
        default_order, total = await read.posts.list(ListQuery(owner_id=alice.id))
        assert [p.content for p in default_order] == ["a0", "a1", "a2", "a3", "a4", "a5"]  # updated_at desc
        assert total == 6

        page, total = await read.posts.list(
            ListQuery(owner_id=alice.id, sort_by=SortField.created_at, order=SortOrder.desc, limit=2, offset=2)
        )
        assert [p.content for p in page] == ["a3", "a2"]
        assert total == 6

        window, total = await read.posts.list(
            ListQuery(
                from_date=T0 + timedelta(minutes=1),
                to_date=T0 + timedelta(minutes=3),
                sort_by=SortField.created_at,
                order=SortOrder.asc,
            )
        )
        assert [p.content for p in window] == ["a1", "a2", "a3"]
        assert total == 3

        beyond, total = await read.posts.list(ListQuery(offset=50))
        assert (beyond, total) == ([], 7)


async def test_two_concurrent_units_of_work_never_share_a_transaction(engine, uow):
    """Each task's queries join its own transaction: one rolls back, the other commits."""
    alice, bob = a_user("alice"), a_user("bob")
    both_inside = asyncio.Barrier(2) if engine.engine_type == "postgres" else None

    async def write(user: User, commit: bool) -> None:
        async with uow() as tx:
            await tx.users.add_if_absent(user)
            if both_inside is not None:
                await both_inside.wait()  # both transactions are open at the same time
            if commit:
                await tx.commit()

    await asyncio.gather(write(alice, commit=True), write(bob, commit=False))
    names = {row["username"] for row in await UserTable.select(UserTable.username)}
    assert names == {"alice"}


async def test_concurrent_updates_with_the_same_if_match_let_exactly_one_win(uow):
    clock = FakeClock()
    post = await CreatePost(uow, clock)(principal("alice"), "v1")
    update = UpdatePost(uow, BuiltinAuthorizer(), clock)

    results = await asyncio.gather(
        *(update(principal("alice"), post.id, f"writer {i}", expected_versions={1}) for i in range(5)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, Post)]
    losers = [r for r in results if isinstance(r, PreconditionFailed)]
    assert len(winners) == 1
    assert len(losers) == 4
    async with uow(read_only=True) as read:
        assert (await read.posts.get(post.id)).version == 2
