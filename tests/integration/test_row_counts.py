"""Unfiltered totals on PostgreSQL: triggers keep row-count deltas, a fold keeps them short
(migration "row counts", adapters/db/row_counts.py). The sum must equal COUNT(*) at every moment:
after inserts, deletes, cascades, rollbacks, concurrent writers with folds running, and a TRUNCATE."""

from __future__ import annotations

import asyncio
import importlib
import uuid
from datetime import UTC, datetime

import pytest

import piccolo_conf
from adapters.db.comments import LISTING as COMMENT_LISTING
from adapters.db.comments import PiccoloCommentRepository
from adapters.db.posts import LISTING as POST_LISTING
from adapters.db.posts import PiccoloPostReader, PiccoloPostRepository
from adapters.db.row_counts import fold, recount
from adapters.db.sql import fetch
from adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from adapters.db.users import PiccoloUserRepository
from domain.comments import Comment
from domain.posts import Post, PostQuery
from domain.users import User

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OWNER = User(id=uuid.uuid4(), username="o", full_name=None, email=None, is_active=True, created_at=T0, updated_at=T0)
migration = importlib.import_module("piccolo_migrations.blog_2026_11_22t07_20_00_000000")


def a_post() -> Post:
    return Post(id=uuid.uuid4(), owner_id=OWNER.id, content="p", created_at=T0, updated_at=T0)


def a_comment(post: Post) -> Comment:
    return Comment(id=uuid.uuid4(), post_id=post.id, owner_id=OWNER.id, content="c", created_at=T0, updated_at=T0)


async def totals(engine) -> tuple[int, int]:
    """What an unfiltered listing reports for posts and comments."""
    post_total = (await fetch(engine, POST_LISTING.count_statement(())))[0][0]
    comment_total = (await fetch(engine, COMMENT_LISTING.count_statement(())))[0][0]
    return post_total, comment_total


async def counted(engine) -> tuple[int, int]:
    return await engine.pool.fetchval('SELECT COUNT(*) FROM "post"'), await engine.pool.fetchval(
        'SELECT COUNT(*) FROM "comment"'
    )


async def pieces(engine, relation: str) -> int:
    return await engine.pool.fetchval("SELECT COUNT(*) FROM row_count_delta WHERE relation = $1", relation)


@pytest.fixture
async def uow(engine) -> PiccoloUnitOfWorkFactory:
    """A unit-of-work factory on a database where OWNER exists."""
    factory = PiccoloUnitOfWorkFactory(engine)
    async with factory() as tx:
        await PiccoloUserRepository(engine).add_if_absent(OWNER)
        await tx.commit()
    return factory


async def a_post_with_a_comment(uow: PiccoloUnitOfWorkFactory) -> None:
    async with uow() as tx:
        post = a_post()
        await PiccoloPostRepository(uow.engine).add(post)
        await PiccoloCommentRepository(uow.engine).add(a_comment(post))
        await tx.commit()


async def test_the_total_follows_inserts_deletes_cascades_and_rollbacks(engine, uow):
    posts = [a_post() for _ in range(3)]
    async with uow() as tx:
        for post in posts:
            await PiccoloPostRepository(uow.engine).add(post)
        await PiccoloCommentRepository(uow.engine).add(a_comment(posts[0]))
        await PiccoloCommentRepository(uow.engine).add(a_comment(posts[0]))
        await PiccoloCommentRepository(uow.engine).add(a_comment(posts[1]))
        await tx.commit()
    assert await totals(engine) == (3, 3) == await counted(engine)

    async with uow() as tx:
        await PiccoloPostRepository(uow.engine).add(a_post())  # never committed
    async with uow() as tx:
        await PiccoloPostRepository(uow.engine).delete(posts[0].id)  # its two comments go with it (ON DELETE CASCADE)
        await tx.commit()
    assert await totals(engine) == (2, 1) == await counted(engine)

    page = await PiccoloPostReader(engine).list(PostQuery(limit=1))
    assert (len(page.items), page.total) == (1, 2), "the listing's own statement reports the same total"


async def test_folding_keeps_the_sum_and_leaves_one_row(engine, uow):
    for _ in range(5):
        async with uow() as tx:
            await PiccoloPostRepository(uow.engine).add(a_post())
            await tx.commit()
    assert await pieces(engine, "post") >= 5
    await fold(engine)
    assert await pieces(engine, "post") == 1
    assert await totals(engine) == (5, 0) == await counted(engine)
    await fold(engine)  # nothing to fold: the row stays as it is
    assert await pieces(engine, "post") == 1
    assert await totals(engine) == (5, 0)


async def test_concurrent_writers_and_folds_lose_nothing(engine, uow):
    created: list[Post] = []
    deleted: list[Post] = []

    async def writer() -> None:
        for _ in range(15):
            post = a_post()
            async with uow() as tx:
                await PiccoloPostRepository(uow.engine).add(post)
                await tx.commit()
            created.append(post)

    async def deleter() -> None:
        for _ in range(10):
            await asyncio.sleep(0.005)
            if created:
                victim = created.pop()
                async with uow() as tx:
                    await PiccoloPostRepository(uow.engine).delete(victim.id)
                    await tx.commit()
                deleted.append(victim)

    async def folder() -> None:
        for _ in range(20):
            await fold(engine)
            await asyncio.sleep(0.003)

    await asyncio.gather(*(writer() for _ in range(4)), deleter(), folder(), folder())
    assert await totals(engine) == await counted(engine)
    assert deleted, "the deleter ran alongside the writers"
    assert (await totals(engine))[0] == 60 - len(deleted)


async def test_install_sets_the_counts_from_the_tables_and_truncate_resets_them(engine, uow, monkeypatch):
    await a_post_with_a_comment(uow)
    await engine.pool.execute("DELETE FROM row_count_delta")  # counts lost, e.g. restored from a dump
    assert await totals(engine) == (0, 0)

    monkeypatch.setattr(piccolo_conf, "DB", engine)  # where a migration finds its engine (engine_finder)
    async with engine.transaction():
        await migration.install()  # idempotent: what the migration ran, run again
    assert await totals(engine) == (1, 1) == await counted(engine)

    await engine.pool.execute('TRUNCATE "comment"')
    assert await totals(engine) == (1, 0) == await counted(engine)


async def test_recount_resets_drifted_counts_from_the_tables(engine, uow):
    await a_post_with_a_comment(uow)
    await engine.pool.execute("INSERT INTO row_count_delta (relation, delta) VALUES ('post', 41)")  # drifted
    assert await totals(engine) == (42, 1)
    assert await recount(engine) == {"post": 1, "comment": 1}
    assert await totals(engine) == (1, 1) == await counted(engine)


def test_just_recount(db_url, monkeypatch, capsys):
    from app import cli

    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert cli.main(["migrate"]) == 0
    assert cli.main(["recount"]) == 0
    assert "recounted: post " in capsys.readouterr().out
