"""Retries that create once (domain/idempotency.py, the steps ``replay`` and ``keep_answer``), on fakes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import msgspec
import pytest

from domain.comments import Comment
from domain.errors import Conflict, NotFound
from domain.idempotency import KEPT_FOR, Answer, Idempotent, KeyInFlight, KeyReused
from domain.ports import IdempotencyKeys
from domain.posts import Post
from domain.use_cases.comments import CreateComment
from domain.use_cases.posts import CreatePost
from tests.fakes import Fakes, principal

ALICE, BOB = principal("alice"), principal("bob")


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


def answer(created: Post | Comment) -> Answer:
    return Answer(201, {"Location": f"/v1/things/{created.id}"}, msgspec.json.encode(created))


def once(key: str = "k-1", fingerprint: bytes = b"POST /v1/posts {hello}") -> Idempotent[Post]:
    return Idempotent(key, fingerprint, answer)


async def test_the_first_request_creates_and_its_answer_is_kept_with_the_row(fakes):
    first = await fakes[CreatePost](ALICE, "hello", once())

    [post] = fakes.db["posts"].values()
    assert first == answer(post)
    assert fakes.db["idempotency_keys"][(ALICE.id, "k-1")].answer == first


async def test_a_retry_gets_the_first_answer_and_creates_nothing(fakes):
    first = await fakes[CreatePost](ALICE, "hello", once())
    # region: openfga
    outbox = list(fakes.db.outbox)
    # endregion

    again = await fakes[CreatePost](ALICE, "hello", once())

    assert again == first
    assert len(fakes.db["posts"]) == 1
    # region: openfga
    assert fakes.db.outbox == outbox
    # endregion


async def test_the_same_key_with_another_request_is_refused(fakes):
    await fakes[CreatePost](ALICE, "hello", once())

    with pytest.raises(KeyReused):
        await fakes[CreatePost](ALICE, "other", once(fingerprint=b"POST /v1/posts {other}"))
    assert len(fakes.db["posts"]) == 1


async def test_keys_are_the_callers_own(fakes):
    await fakes[CreatePost](ALICE, "hello", once())
    await fakes[CreatePost](BOB, "hello", once())

    assert {post.owner_id for post in fakes.db["posts"].values()} == {ALICE.id, BOB.id}


async def test_a_key_is_free_again_once_it_expired(fakes):
    await fakes[CreatePost](ALICE, "hello", once())
    fakes.clock.current += KEPT_FOR + timedelta(seconds=1)

    await fakes[CreatePost](ALICE, "hello", once())

    assert len(fakes.db["posts"]) == 2


async def test_a_retry_while_the_first_is_running_is_a_conflict(fakes):
    keys = fakes.ports[IdempotencyKeys]
    async with fakes.uow():  # the first request, still in its unit of work, has taken the key
        now = fakes.clock.now()
        assert await keys.take(ALICE.id, "k-1", b"POST /v1/posts {hello}", now, now + KEPT_FOR) is None

        with pytest.raises(KeyInFlight):
            await asyncio.create_task(fakes[CreatePost](ALICE, "hello", once()))
    assert fakes.db["posts"] == {}
    assert issubclass(KeyInFlight, Conflict)  # a 409, as every conflict


async def test_a_request_that_fails_keeps_no_key(fakes):
    with pytest.raises(NotFound):
        await fakes[CreateComment](ALICE, uuid.uuid4(), "on nothing", Idempotent("k-1", b"c", answer))
    assert fakes.db["idempotency_keys"] == {}

    fakes.uow.fail_on_commit = RuntimeError("commit failed")
    with pytest.raises(RuntimeError):
        await fakes[CreatePost](ALICE, "lost", once())
    assert fakes.db["idempotency_keys"] == {}
    assert fakes.db["posts"] == {}


async def test_without_a_key_nothing_is_taken(fakes):
    post = await fakes[CreatePost](ALICE, "hello")

    assert isinstance(post, Post)
    assert fakes.db["idempotency_keys"] == {}


async def test_comments_are_created_once_too(fakes):
    post = await fakes[CreatePost](ALICE, "post")
    sent = Idempotent[Comment]("c-1", b"POST /v1/comments {...}", answer)

    first = await fakes[CreateComment](BOB, post.id, "hi", sent)
    again = await fakes[CreateComment](BOB, post.id, "hi", sent)

    assert again == first
    assert len(fakes.db["comments"]) == 1
