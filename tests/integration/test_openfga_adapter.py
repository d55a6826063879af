"""The OpenFGA authorizer and tuple writer, through the real openfga-sdk, against the stand-in server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from adapters.authz.openfga import DeliveryRefused, OpenFga, OpenFgaAuthorizer, OpenFgaConfig, OpenFgaTupleWriter
from domain.comments import Comment
from domain.errors import DependencyUnavailable
from domain.ports import RelationChange
from domain.posts import Post
from tests.fakes import principal
from tests.support.fake_openfga import MODEL_ID, STORE_ID, FakeOpenFGA, new_ulid
from tests.support.openfga import opened

ALICE, BOB, CAROL = principal("alice"), principal("bob"), principal("carol")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def alices_post() -> Post:
    return Post(id=uuid.uuid4(), owner_id=ALICE.id, content="x", created_at=T0, updated_at=T0)


@pytest.fixture
def fga() -> Iterator[FakeOpenFGA]:
    with FakeOpenFGA() as server:
        yield server


async def test_the_owner_is_allowed_from_the_row_before_any_tuple_exists(fga):
    post = alices_post()
    async with opened(fga) as client:
        authorizer = OpenFgaAuthorizer(client)
        assert await authorizer.is_allowed(ALICE, "can_update", post)
        assert await authorizer.is_allowed(ALICE, "can_delete", post)
        assert not await authorizer.is_allowed(BOB, "can_update", post)
        assert not await authorizer.is_allowed(BOB, "can_delete", post)

    assert fga.tuples == set(), "the owner tuple travelled as a contextual tuple, nothing was written"
    sent = fga.requests_to(f"/stores/{STORE_ID}/check")[0].json()
    assert sent["tuple_key"] == {"user": f"user:{ALICE.id}", "relation": "can_update", "object": f"post:{post.id}"}
    assert sent["contextual_tuples"] == {
        "tuple_keys": [{"user": f"user:{ALICE.id}", "relation": "owner", "object": f"post:{post.id}"}]
    }
    assert sent["authorization_model_id"] == MODEL_ID


async def test_relations_held_in_openfga_count_too(fga):
    post = alices_post()
    fga.add_tuples((f"user:{BOB.id}", "editor", f"post:{post.id}"))
    async with opened(fga) as client:
        authorizer = OpenFgaAuthorizer(client)
        assert await authorizer.is_allowed(BOB, "can_update", post)
        assert not await authorizer.is_allowed(BOB, "can_delete", post), "editors may not delete"
        assert not await authorizer.is_allowed(CAROL, "can_update", post)


async def test_comments_are_checked_as_comments(fga):
    comment = Comment(id=uuid.uuid4(), post_id=uuid.uuid4(), owner_id=BOB.id, content="c", created_at=T0, updated_at=T0)
    async with opened(fga) as client:
        authorizer = OpenFgaAuthorizer(client)
        assert await authorizer.is_allowed(BOB, "can_delete", comment)
        assert not await authorizer.is_allowed(ALICE, "can_delete", comment)
    assert fga.requests_to(f"/stores/{STORE_ID}/check")[0].json()["tuple_key"]["object"] == f"comment:{comment.id}"


async def test_the_api_token_is_sent_as_a_bearer_token(fga):
    async with opened(fga, api_token="s3cret") as client:
        await OpenFgaAuthorizer(client).is_allowed(ALICE, "can_update", alices_post())
    assert fga.requests_to(f"/stores/{STORE_ID}/check")[0].headers["authorization"] == "Bearer s3cret"


async def test_server_down_is_dependency_unavailable(fga):
    fga.stop()
    async with opened(fga) as client:
        with pytest.raises(DependencyUnavailable) as raised:
            await OpenFgaAuthorizer(client).is_allowed(ALICE, "can_update", alices_post())
    assert raised.value.dependency == "openfga"


async def test_a_5xx_is_retried_once_then_dependency_unavailable(fga):
    fga.fail_next(2, 500)
    async with opened(fga) as client:
        with pytest.raises(DependencyUnavailable):
            await OpenFgaAuthorizer(client).is_allowed(ALICE, "can_update", alices_post())
    assert fga.check_count == 2

    fga.fail_next(1, 503)
    async with opened(fga) as client:
        assert await OpenFgaAuthorizer(client).is_allowed(ALICE, "can_update", alices_post())


async def test_a_hung_server_is_cut_off_by_the_timeout(fga):
    fga.delay_seconds = 1.0
    async with opened(fga, timeout_ms=100) as client:
        with pytest.raises(DependencyUnavailable):
            await OpenFgaAuthorizer(client).is_allowed(ALICE, "can_update", alices_post())


async def test_a_refused_check_is_dependency_unavailable_not_a_crash(fga):
    # A wrong OPENFGA_MODEL_ID: the server answers 400 authorization_model_not_found.
    async with opened(fga, model_id=new_ulid()) as client:
        with pytest.raises(DependencyUnavailable):
            await OpenFgaAuthorizer(client).is_allowed(ALICE, "can_update", alices_post())


async def test_a_client_that_was_never_opened_is_unavailable(fga):
    client = OpenFga(
        OpenFgaConfig(api_url=fga.url, store_id=STORE_ID, model_id=MODEL_ID, api_token=None, timeout_ms=500)
    )
    with pytest.raises(DependencyUnavailable):
        await OpenFgaAuthorizer(client).is_allowed(ALICE, "can_update", alices_post())


# -- the writer -----------------------------------------------------------------------------

POST_1 = RelationChange("write", f"user:{ALICE.id}", "owner", "post:1")
POST_2 = RelationChange("write", f"user:{BOB.id}", "owner", "post:2")


async def test_the_writer_applies_writes_and_deletes_in_one_request(fga):
    fga.add_tuples((POST_2.user, POST_2.relation, POST_2.object))
    async with opened(fga) as client:
        await OpenFgaTupleWriter(client).apply([POST_1, RelationChange("delete", POST_2.user, "owner", "post:2")])
    assert fga.tuples == {(POST_1.user, "owner", "post:1")}
    assert fga.write_count == 1


async def test_the_writer_is_idempotent(fga):
    async with opened(fga) as client:
        writer = OpenFgaTupleWriter(client)
        await writer.apply([POST_1])
        await writer.apply([POST_1])
        await writer.apply([RelationChange("delete", POST_1.user, "owner", "post:1")])
        await writer.apply([RelationChange("delete", POST_1.user, "owner", "post:1")])
    assert fga.tuples == set()
    body = fga.requests_to(f"/stores/{STORE_ID}/write")[0].json()
    assert body["writes"]["on_duplicate"] == "ignore"


async def test_the_writer_does_not_retry_on_its_own(fga):
    fga.fail_next(1, 500)
    async with opened(fga) as client:
        with pytest.raises(DependencyUnavailable):
            await OpenFgaTupleWriter(client).apply([POST_1])
    assert fga.write_count == 1, "the relay's backoff retries, not the SDK"


async def test_the_writer_reports_a_refused_tuple(fga):
    async with opened(fga) as client:
        with pytest.raises(DeliveryRefused) as raised:
            await OpenFgaTupleWriter(client).apply([RelationChange("write", "user:x", "owner", "folder:1")])
    assert "type 'folder' not found" in str(raised.value)
