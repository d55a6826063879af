"""`just relay` (python -m app.cli relay) and `just fga-model`, run as an operator would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.clock import SystemClock
from adapters.db.outbox import PiccoloOutbox
from adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from domain.ports import RelationChange
from tests.support.fake_openfga import FakeOpenFGA, authorization_model
from tests.support.openfga import openfga_env

REPO_ROOT = Path(__file__).resolve().parents[2]
CHANGES = [
    RelationChange("write", "user:alice", "owner", "post:1"),
    RelationChange("write", "user:bob", "owner", "comment:2"),
]


@pytest.fixture
def fga() -> Iterator[FakeOpenFGA]:
    with FakeOpenFGA() as server:
        yield server


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENFGA_", "OUTBOX_", "CONSUL_"))}
    return subprocess.run(
        [*args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO_ROOT,
        env={**clean, "APP_ENV": "test", "ENV_FILE": "/nonexistent", **env},
    )


async def record(engine) -> None:
    uow = PiccoloUnitOfWorkFactory(engine, PiccoloOutbox(SystemClock()))
    async with uow() as tx:
        await tx.outbox.record(CHANGES)
        await tx.commit()


async def test_relay_drains_the_outbox_once(engine, db_url, fga):
    await record(engine)

    result = run(sys.executable, "-m", "app.cli", "relay", env={"DATABASE_URL": db_url, **openfga_env(fga)})

    assert result.returncode == 0, result.stderr
    assert "delivered 2 relationship change(s), 0 failed" in result.stdout
    assert "0 pending" in result.stdout
    assert fga.tuples == {(c.user, c.relation, c.object) for c in CHANGES}


async def test_relay_exits_1_and_keeps_the_rows_while_openfga_is_down(engine, db_url, fga):
    await record(engine)
    fga.stop()

    result = run(sys.executable, "-m", "app.cli", "relay", env={"DATABASE_URL": db_url, **openfga_env(fga)})

    assert result.returncode == 1, result.stdout + result.stderr
    assert "delivered 0 relationship change(s), 2 failed" in result.stdout
    assert "2 pending" in result.stdout


def test_relay_without_openfga_says_there_is_nothing_to_relay(tmp_path):
    result = run(sys.executable, "-m", "app.cli", "relay", env={"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"})
    assert result.returncode == 2
    assert "OPENFGA_API_URL is not set" in result.stderr


def test_just_fga_model_prints_the_model_as_json():
    just = Path(sys.executable).parent / "just"
    result = run(str(just), "fga-model", env={"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == authorization_model()  # fga model transform's


async def test_backfill_queues_every_tuple_and_the_relay_delivers_them(engine, db_url, fga):
    """Content, shares and memberships written while permissions were built in (no outbox), then
    OpenFGA turned on."""
    from datetime import UTC, datetime

    from adapters.db.comments import PiccoloCommentRepository
    from adapters.db.posts import PiccoloPostRepository
    from adapters.db.sharing import PiccoloGroupRepository, PiccoloSharingRepository
    from adapters.db.users import PiccoloUserRepository
    from domain.comments import Comment
    from domain.posts import Post
    from domain.sharing import Group, Membership
    from domain.users import User

    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    alice = User(uuid.uuid4(), "alice", None, None, True, t0, t0)
    bob = User(uuid.uuid4(), "bob", None, None, True, t0, t0)
    staff = Group(uuid.uuid4(), "staff", "/staff", 1)
    post = Post(id=uuid.uuid4(), owner_id=alice.id, content="p", created_at=t0, updated_at=t0)
    comment = Comment(id=uuid.uuid4(), post_id=post.id, owner_id=alice.id, content="c", created_at=t0, updated_at=t0)
    async with PiccoloUnitOfWorkFactory(engine)() as tx:  # the built-in authorizer's factory: no outbox
        await PiccoloUserRepository(engine).add_if_absent(alice)
        await PiccoloPostRepository(engine).add(post)
        await PiccoloCommentRepository(engine).add(comment)
        await PiccoloUserRepository(engine).add_if_absent(bob)
        groups, sharing = PiccoloGroupRepository(engine), PiccoloSharingRepository(engine)
        await groups.save(staff)
        await groups.save_membership(Membership(staff.id, bob.id, True, 1))
        await groups.save_membership(Membership(staff.id, alice.id, False, 1))  # left: no tuple
        await sharing.add_user(post.id, bob.id)
        await sharing.add_group(post.id, staff.id)
        await tx.commit()
    env = {"DATABASE_URL": db_url, **openfga_env(fga)}

    backfill = run(sys.executable, "-m", "app.cli", "backfill-permissions", env=env)
    assert backfill.returncode == 0, backfill.stderr
    kinds = "post 1, comment 1, comment_post 1, post_editor 1, post_editor_group 1, group_membership 1"
    assert f"queued the tuples the database holds: {kinds};" in backfill.stdout
    relay = run(sys.executable, "-m", "app.cli", "relay", env=env)
    assert relay.returncode == 0, relay.stderr
    expected = {
        (f"user:{alice.id}", "owner", f"post:{post.id}"),
        (f"user:{alice.id}", "owner", f"comment:{comment.id}"),
        (f"post:{post.id}", "post", f"comment:{comment.id}"),
        (f"user:{bob.id}", "editor", f"post:{post.id}"),
        (f"group:{staff.id}#member", "editor", f"post:{post.id}"),
        (f"user:{bob.id}", "member", f"group:{staff.id}"),
    }
    assert fga.tuples == expected

    again = run(sys.executable, "-m", "app.cli", "backfill-permissions", env=env)  # harmless twice
    assert again.returncode == 0, again.stderr
    assert run(sys.executable, "-m", "app.cli", "relay", env=env).returncode == 0
    assert fga.tuples == expected


def test_backfill_without_openfga_says_there_is_nothing_to_backfill(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    result = run(sys.executable, "-m", "app.cli", "backfill-permissions", env=env)
    assert result.returncode == 2
    assert "nothing to backfill" in result.stderr
