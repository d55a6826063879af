"""Use cases for posts and comments, against in-memory fakes of the ports."""

from __future__ import annotations

import uuid

import pytest

from domain.errors import Forbidden, InvalidInput, NotFound, PreconditionFailed
from domain.listing import ListQuery, SortField, SortOrder
from domain.model import CONTENT_MAX_LENGTH
from domain.ports import RelationChange
from domain.use_cases.comments import CreateComment, DeleteComment, ListComments, UpdateComment
from domain.use_cases.posts import CreatePost, DeletePost, GetPost, ListPosts, UpdatePost
from tests.fakes import FakeClock, FakeUnitOfWorkFactory, OwnerAuthorizer, principal

ALICE, BOB, ADMIN = principal("alice"), principal("bob"), principal("root", admin=True)


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def authz() -> OwnerAuthorizer:
    return OwnerAuthorizer()


async def test_create_post_trims_content_registers_writer_and_records_owner_tuple(uow, clock):
    post = await CreatePost(uow, clock)(ALICE, "  hello  ")

    assert post.content == "hello"
    assert post.version == 1
    assert post.owner_id == ALICE.id
    assert uow.store.posts[post.id] == post
    assert uow.store.users[ALICE.id].username == "alice"
    assert uow.store.outbox == [RelationChange("write", f"user:{ALICE.id}", "owner", f"post:{post.id}")]


@pytest.mark.parametrize("content", ["", "   ", "\n\t", "x" * (CONTENT_MAX_LENGTH + 1)])
async def test_create_post_refuses_bad_content_and_writes_nothing(uow, clock, content):
    with pytest.raises(InvalidInput) as error:
        await CreatePost(uow, clock)(ALICE, content)
    assert error.value.field == "content"
    assert uow.store.posts == {}
    assert uow.store.users == {}


async def test_content_of_exactly_the_limit_after_trimming_is_accepted(uow, clock):
    post = await CreatePost(uow, clock)(ALICE, "  " + "x" * CONTENT_MAX_LENGTH + "  ")
    assert len(post.content) == CONTENT_MAX_LENGTH


async def test_a_deactivated_user_cannot_write(uow, clock):
    await CreatePost(uow, clock)(ALICE, "first")
    alice = uow.store.users[ALICE.id]
    uow.store.users[ALICE.id] = type(alice)(
        **{**{f: getattr(alice, f) for f in alice.__struct_fields__}, "is_active": False}
    )

    with pytest.raises(Forbidden):
        await CreatePost(uow, clock)(ALICE, "second")
    assert len(uow.store.posts) == 1


async def test_get_unknown_post_is_not_found(uow):
    with pytest.raises(NotFound):
        await GetPost(uow)(uuid.uuid4())


async def test_owner_updates_and_version_increments(uow, clock, authz):
    post = await CreatePost(uow, clock)(ALICE, "v1")
    updated = await UpdatePost(uow, authz, clock)(ALICE, post.id, "v2", expected_versions={1})
    again = await UpdatePost(uow, authz, clock)(ALICE, post.id, "v3")  # no If-Match: still bumps

    assert (updated.version, again.version) == (2, 3)
    assert again.updated_at > post.updated_at
    assert again.created_at == post.created_at
    assert uow.store.posts[post.id].content == "v3"


async def test_stale_expected_version_is_refused_and_changes_nothing(uow, clock, authz):
    post = await CreatePost(uow, clock)(ALICE, "v1")
    await UpdatePost(uow, authz, clock)(ALICE, post.id, "v2")

    with pytest.raises(PreconditionFailed):
        await UpdatePost(uow, authz, clock)(ALICE, post.id, "v3", expected_versions={1})
    assert uow.store.posts[post.id].content == "v2"


async def test_any_listed_version_that_is_current_satisfies_the_update(uow, clock, authz):
    post = await CreatePost(uow, clock)(ALICE, "v1")
    await UpdatePost(uow, authz, clock)(ALICE, post.id, "v2")

    updated = await UpdatePost(uow, authz, clock)(ALICE, post.id, "v3", expected_versions={1, 2})
    assert updated.version == 3
    with pytest.raises(PreconditionFailed):  # nothing listed (only weak or foreign tags): never satisfied
        await UpdatePost(uow, authz, clock)(ALICE, post.id, "v4", expected_versions=set())
    assert uow.store.posts[post.id].content == "v3"


async def test_a_stale_expected_version_refuses_a_delete_and_deletes_nothing(uow, clock, authz):
    post = await CreatePost(uow, clock)(ALICE, "v1")
    comment = await CreateComment(uow, clock)(BOB, post.id, "c1")
    await UpdatePost(uow, authz, clock)(ALICE, post.id, "v2")
    uow.store.outbox.clear()

    with pytest.raises(PreconditionFailed):
        await DeletePost(uow, authz)(ALICE, post.id, expected_versions={1})
    with pytest.raises(PreconditionFailed):
        await DeleteComment(uow, authz)(BOB, comment.id, expected_versions={2})
    assert post.id in uow.store.posts
    assert comment.id in uow.store.comments
    assert uow.store.outbox == []

    await DeleteComment(uow, authz)(BOB, comment.id, expected_versions={1})
    await DeletePost(uow, authz)(ALICE, post.id, expected_versions={1, 2})
    assert uow.store.posts == {}
    assert uow.store.comments == {}


async def test_stranger_cannot_update_or_delete_but_admin_can(uow, clock, authz):
    post = await CreatePost(uow, clock)(ALICE, "mine")

    with pytest.raises(Forbidden):
        await UpdatePost(uow, authz, clock)(BOB, post.id, "hijack")
    with pytest.raises(Forbidden):
        await DeletePost(uow, authz)(BOB, post.id)
    assert uow.store.posts[post.id].content == "mine"

    calls_before = len(authz.calls)
    await UpdatePost(uow, authz, clock)(ADMIN, post.id, "moderated")
    await DeletePost(uow, authz)(ADMIN, post.id)
    assert post.id not in uow.store.posts
    assert len(authz.calls) == calls_before, "admins are decided from the token, not asked of the authorizer"


async def test_deleting_a_post_takes_its_comments_and_their_tuples(uow, clock, authz):
    post = await CreatePost(uow, clock)(ALICE, "post")
    comment = await CreateComment(uow, clock)(BOB, post.id, "nice")
    uow.store.outbox.clear()

    await DeletePost(uow, authz)(ALICE, post.id)

    assert uow.store.comments == {}
    assert set(uow.store.outbox) == {
        RelationChange("delete", f"user:{ALICE.id}", "owner", f"post:{post.id}"),
        RelationChange("delete", f"user:{BOB.id}", "owner", f"comment:{comment.id}"),
    }


async def test_comment_on_unknown_post_is_not_found_and_writes_nothing(uow, clock):
    with pytest.raises(NotFound):
        await CreateComment(uow, clock)(ALICE, uuid.uuid4(), "hello?")
    assert uow.store.comments == {}
    assert uow.store.users == {}


async def test_comment_owner_rules(uow, clock, authz):
    post = await CreatePost(uow, clock)(ALICE, "post")
    comment = await CreateComment(uow, clock)(BOB, post.id, "by bob")

    with pytest.raises(Forbidden):  # the post's owner does not own the comment
        await UpdateComment(uow, authz, clock)(ALICE, comment.id, "edited by alice")
    updated = await UpdateComment(uow, authz, clock)(BOB, comment.id, "edited", expected_versions={1})
    assert updated.version == 2

    with pytest.raises(Forbidden):
        await DeleteComment(uow, authz)(ALICE, comment.id)
    await DeleteComment(uow, authz)(BOB, comment.id)
    assert uow.store.comments == {}


async def test_a_failure_after_writes_leaves_nothing_behind(uow, clock):
    uow.fail_on_commit = RuntimeError("commit failed")
    with pytest.raises(RuntimeError):
        await CreatePost(uow, clock)(ALICE, "lost")
    assert uow.store.posts == {}
    assert uow.store.outbox == []


async def test_each_call_opens_its_own_unit_of_work(uow, clock):
    create = CreatePost(uow, clock)
    await create(ALICE, "one")
    await create(ALICE, "two")
    assert len(uow.opened) == 2
    assert uow.opened[0] is not uow.opened[1]


async def test_listing_filters_sorts_and_pages(uow, clock):
    create = CreatePost(uow, clock)
    alice_posts = [await create(ALICE, f"a{i}") for i in range(5)]
    await create(BOB, "b0")

    page = await ListPosts(uow)(
        ListQuery(owner_id=ALICE.id, sort_by=SortField.created_at, order=SortOrder.asc, limit=2, offset=1)
    )
    assert [p.content for p in page.items] == ["a1", "a2"]
    assert (page.total, page.limit, page.offset) == (5, 2, 1)

    window = await ListPosts(uow)(
        ListQuery(from_date=alice_posts[1].created_at, to_date=alice_posts[3].created_at, order=SortOrder.asc)
    )
    assert [p.content for p in window.items] == ["a1", "a2", "a3"], "both bounds are inclusive"

    newest = await ListPosts(uow)(ListQuery(limit=1))
    assert newest.items[0].content == "b0"
    assert newest.total == 6


async def test_comment_listing_by_post(uow, clock):
    first = await CreatePost(uow, clock)(ALICE, "first")
    second = await CreatePost(uow, clock)(ALICE, "second")
    await CreateComment(uow, clock)(BOB, first.id, "on first")
    await CreateComment(uow, clock)(BOB, second.id, "on second")

    page = await ListComments(uow)(ListQuery(post_id=second.id))
    assert [c.content for c in page.items] == ["on second"]
    assert page.total == 1


@pytest.mark.parametrize("remote", [True, False], ids=["remote: before the transaction", "local: inside it"])
async def test_when_the_authorizer_is_asked(uow, clock, remote):
    """OpenFGA is a network call: waiting for it must not hold a row lock and a pooled connection.
    The built-in rule decides from the row, so it is asked inside the transaction, from the locked
    row, which saves a read."""
    asked_while_writing: list[bool] = []

    class Watching(OwnerAuthorizer):
        async def is_allowed(self, principal, action, resource):
            asked_while_writing.append(uow.writing)
            return await super().is_allowed(principal, action, resource)

    authz = Watching(remote=remote)
    post = await CreatePost(uow, clock)(ALICE, "post")
    comment = await CreateComment(uow, clock)(BOB, post.id, "comment")

    await UpdatePost(uow, authz, clock)(ALICE, post.id, "edited")
    await UpdateComment(uow, authz, clock)(BOB, comment.id, "edited")
    with pytest.raises(Forbidden):
        await DeletePost(uow, authz)(BOB, post.id)
    await DeleteComment(uow, authz)(BOB, comment.id)
    await DeletePost(uow, authz)(ALICE, post.id)

    assert asked_while_writing == [not remote] * 5
    assert uow.store.posts == {}


async def test_a_post_deleted_after_the_permission_check_is_not_found(uow, clock):
    post = await CreatePost(uow, clock)(ALICE, "post")

    class DeletesMeanwhile(OwnerAuthorizer):
        async def is_allowed(self, principal, action, resource):
            uow.store.posts.pop(resource.id, None)  # a concurrent delete wins the race
            return await super().is_allowed(principal, action, resource)

    with pytest.raises(NotFound):  # a remote authorizer is asked before the transaction loads the row again
        await UpdatePost(uow, DeletesMeanwhile(remote=True), clock)(ALICE, post.id, "too late")
