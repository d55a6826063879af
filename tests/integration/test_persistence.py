"""The Piccolo repositories and unit of work, on SQLite and on PostgreSQL (same tests, both engines)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from piccolo.engine.base import Engine

from adapters.db.comments import CommentTable, PiccoloCommentRepository
from adapters.db.posts import PiccoloPostReader, PiccoloPostRepository, PostTable
from adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from adapters.db.users import PiccoloUserRepository, UserTable
from domain.comments import Comment
from domain.errors import PreconditionFailed
from domain.listing import SortField, SortOrder
from domain.posts import Post, PostQuery
from domain.use_cases.posts import CreatePost, UpdatePost
from domain.users import User
from tests.fakes import principal

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


@pytest.fixture
def users(engine) -> PiccoloUserRepository:
    return PiccoloUserRepository(engine)


# region: blog
@pytest.fixture
def posts(engine) -> PiccoloPostRepository:
    return PiccoloPostRepository(engine)


# endregion


# region: blog
@pytest.fixture
def comments(engine) -> PiccoloCommentRepository:
    return PiccoloCommentRepository(engine)


# endregion


# region: blog
async def test_rows_round_trip_with_types_intact(uow, users, posts):
    user = a_user()
    post = Post(id=uuid.uuid4(), owner_id=user.id, content="héllo ✓", created_at=T0, updated_at=T0)
    async with uow() as tx:
        assert await users.add_if_absent(user) == user
        await posts.add(post)
        await tx.commit()

    stored = await posts.get(post.id)
    stored_user = await users.get(user.id)
    assert stored == post
    assert stored_user == user
    assert stored.created_at.tzinfo is not None
    assert isinstance(stored.id, uuid.UUID)


# endregion


async def test_leaving_without_commit_rolls_back(uow, users):
    async with uow():
        await users.add_if_absent(a_user())
    assert await UserTable.count() == 0


async def test_a_failure_mid_use_case_leaves_no_row_behind(uow, users, request):
    user = a_user()
    with pytest.raises(ZeroDivisionError):
        async with uow():
            await users.add_if_absent(user)
            # region: blog
            posts = request.getfixturevalue("posts")
            await posts.add(Post(id=uuid.uuid4(), owner_id=user.id, content="x", created_at=T0, updated_at=T0))
            # endregion
            _ = 1 / 0
    assert await UserTable.count() == 0
    # region: blog
    assert await PostTable.count() == 0
    # endregion


async def test_add_if_absent_keeps_the_first_row(uow, users):
    async with uow() as tx:
        await users.add_if_absent(a_user())
        again = await users.add_if_absent(
            User(**{**{f: getattr(a_user(), f) for f in User.__struct_fields__}, "username": "changed"})
        )
        await tx.commit()
    assert again.username == "alice"


async def test_save_upserts_and_keeps_created_at(uow, users):
    user = a_user()
    async with uow() as tx:
        await users.save(user)
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
        await users.save(changed)
        await tx.commit()
    stored = await users.get(user.id)
    assert stored is not None
    assert (stored.username, stored.is_active, stored.synced_at_ms) == ("al", False, 5)
    assert stored.created_at == T0


# region: blog
async def test_update_is_a_compare_and_set_on_version(uow, users, posts):
    user = a_user()
    post = Post(id=uuid.uuid4(), owner_id=user.id, content="v1", created_at=T0, updated_at=T0)
    async with uow() as tx:
        await users.add_if_absent(user)
        await posts.add(post)
        assert await posts.update(post.revised("v2", T0 + timedelta(seconds=1)))
        assert not await posts.update(post.revised("stale", T0 + timedelta(seconds=2))), "version 1 is gone"
        await tx.commit()
    stored = await posts.get(post.id)
    assert (stored.content, stored.version) == ("v2", 2)


# endregion


# region: blog
async def test_deleting_a_post_cascades_to_its_comments(uow, users, posts, comments):
    user = a_user()
    post = Post(id=uuid.uuid4(), owner_id=user.id, content="p", created_at=T0, updated_at=T0)
    comment = Comment(id=uuid.uuid4(), post_id=post.id, owner_id=user.id, content="c", created_at=T0, updated_at=T0)
    async with uow() as tx:
        await users.add_if_absent(user)
        await posts.add(post)
        await comments.add(comment)
        assert await comments.owners_on_post(post.id) == [(comment.id, user.id)]
        await posts.delete(post.id)
        await tx.commit()
    assert await CommentTable.count() == 0


# endregion


# region: blog
async def test_listing_filters_sort_order_paging_and_total(engine, uow, users, posts):
    alice, bob = a_user("alice"), a_user("bob")
    mine = [
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
            await users.add_if_absent(user)
        for post in mine:
            await posts.add(post)
        await posts.add(Post(id=uuid.uuid4(), owner_id=bob.id, content="b", created_at=T0, updated_at=T0))
        await tx.commit()
    reader = PiccoloPostReader(engine)

    default_order = await reader.list(PostQuery(owner_id=alice.id))
    assert [p.content for p in default_order.items] == ["a0", "a1", "a2", "a3", "a4", "a5"]  # updated_at desc
    assert default_order.total == 6

    page = await reader.list(
        PostQuery(owner_id=alice.id, sort_by=SortField.created_at, order=SortOrder.desc, limit=2, offset=2)
    )
    assert [p.content for p in page.items] == ["a3", "a2"]
    assert page.total == 6

    window = await reader.list(
        PostQuery(
            from_date=T0 + timedelta(minutes=1),
            to_date=T0 + timedelta(minutes=3),
            sort_by=SortField.created_at,
            order=SortOrder.asc,
        )
    )
    assert [p.content for p in window.items] == ["a1", "a2", "a3"]
    assert window.total == 3

    beyond = await reader.list(PostQuery(offset=50))
    assert (beyond.items, beyond.total) == ([], 7)


# endregion


async def test_two_concurrent_units_of_work_never_share_a_transaction(engine, uow, users):
    """Each task's queries join its own transaction: one rolls back, the other commits."""
    alice, bob = a_user("alice"), a_user("bob")
    both_inside = asyncio.Barrier(2) if engine.engine_type == "postgres" else None

    async def write(user: User, commit: bool) -> None:
        async with uow() as tx:
            await users.add_if_absent(user)
            if both_inside is not None:
                await both_inside.wait()  # both transactions are open at the same time
            if commit:
                await tx.commit()

    await asyncio.gather(write(alice, commit=True), write(bob, commit=False))
    names = {row["username"] for row in await UserTable.select(UserTable.username)}
    assert names == {"alice"}


# region: blog
async def test_concurrent_updates_with_the_same_if_match_let_exactly_one_win(make_container, engine, posts):
    """The use cases as the app wires them (built-in authorizer), on the test's database."""
    container = make_container(ports={Engine: engine})
    post = await container[CreatePost](principal("alice"), "v1")
    update = container[UpdatePost]

    results = await asyncio.gather(
        *(update(principal("alice"), post.id, f"writer {i}", expected_versions={1}) for i in range(5)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, Post)]
    losers = [r for r in results if isinstance(r, PreconditionFailed)]
    assert len(winners) == 1
    assert len(losers) == 4
    assert (await posts.get(post.id)).version == 2


# endregion
