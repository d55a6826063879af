"""Use cases for posts and comments, against in-memory fakes of the ports."""

from __future__ import annotations

import uuid

import pytest

from domain.comments import CommentQuery
from domain.errors import Forbidden, InvalidInput, NotFound, PreconditionFailed
from domain.listing import SortField, SortOrder
from domain.model import CONTENT_MAX_LENGTH
from domain.ports import Authorizer, RelationChange
from domain.posts import PostQuery
from domain.use_cases.comments import CreateComment, DeleteComment, ListComments, UpdateComment
from domain.use_cases.posts import CreatePost, DeletePost, GetPost, ListPosts, UpdatePost
from domain.use_cases.sharing import ShareWithUser
from tests.fakes import Fakes, OwnerAuthorizer, principal

ALICE, BOB, CAROL, ADMIN = principal("alice"), principal("bob"), principal("carol"), principal("root", admin=True)


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


async def test_create_post_trims_content_registers_writer_and_records_owner_tuple(fakes):
    post = await fakes[CreatePost](ALICE, "  hello  ")

    assert post.content == "hello"
    assert post.version == 1
    assert post.owner_id == ALICE.id
    assert fakes.db["posts"][post.id] == post
    assert fakes.db["users"][ALICE.id].username == "alice"
    # region: openfga
    assert fakes.db.outbox == [RelationChange("write", f"user:{ALICE.id}", "owner", f"post:{post.id}")]
    # endregion


@pytest.mark.parametrize("content", ["", "   ", "\n\t", "x" * (CONTENT_MAX_LENGTH + 1)])
async def test_create_post_refuses_bad_content_and_writes_nothing(fakes, content):
    with pytest.raises(InvalidInput) as error:
        await fakes[CreatePost](ALICE, content)
    assert error.value.field == "content"
    assert fakes.db["posts"] == {}
    assert fakes.db["users"] == {}


async def test_content_of_exactly_the_limit_after_trimming_is_accepted(fakes):
    post = await fakes[CreatePost](ALICE, "  " + "x" * CONTENT_MAX_LENGTH + "  ")
    assert len(post.content) == CONTENT_MAX_LENGTH


async def test_a_deactivated_user_cannot_write(fakes):
    await fakes[CreatePost](ALICE, "first")
    alice = fakes.db["users"][ALICE.id]
    fakes.db["users"][ALICE.id] = type(alice)(
        **{**{f: getattr(alice, f) for f in alice.__struct_fields__}, "is_active": False}
    )

    with pytest.raises(Forbidden):
        await fakes[CreatePost](ALICE, "second")
    assert len(fakes.db["posts"]) == 1


async def test_get_unknown_post_is_not_found(fakes):
    with pytest.raises(NotFound):
        await fakes[GetPost](uuid.uuid4())


async def test_owner_updates_and_version_increments(fakes):
    post = await fakes[CreatePost](ALICE, "v1")
    updated = await fakes[UpdatePost](ALICE, post.id, "v2", expected_versions={1})
    again = await fakes[UpdatePost](ALICE, post.id, "v3")  # no If-Match: still bumps

    assert (updated.version, again.version) == (2, 3)
    assert again.updated_at > post.updated_at
    assert again.created_at == post.created_at
    assert fakes.db["posts"][post.id].content == "v3"


async def test_stale_expected_version_is_refused_and_changes_nothing(fakes):
    post = await fakes[CreatePost](ALICE, "v1")
    await fakes[UpdatePost](ALICE, post.id, "v2")

    with pytest.raises(PreconditionFailed):
        await fakes[UpdatePost](ALICE, post.id, "v3", expected_versions={1})
    assert fakes.db["posts"][post.id].content == "v2"


async def test_any_listed_version_that_is_current_satisfies_the_update(fakes):
    post = await fakes[CreatePost](ALICE, "v1")
    await fakes[UpdatePost](ALICE, post.id, "v2")

    updated = await fakes[UpdatePost](ALICE, post.id, "v3", expected_versions={1, 2})
    assert updated.version == 3
    with pytest.raises(PreconditionFailed):  # nothing listed (only weak or foreign tags): never satisfied
        await fakes[UpdatePost](ALICE, post.id, "v4", expected_versions=set())
    assert fakes.db["posts"][post.id].content == "v3"


async def test_a_stale_expected_version_refuses_a_delete_and_deletes_nothing(fakes):
    post = await fakes[CreatePost](ALICE, "v1")
    comment = await fakes[CreateComment](BOB, post.id, "c1")
    await fakes[UpdatePost](ALICE, post.id, "v2")
    # region: openfga
    fakes.db.outbox.clear()
    # endregion

    with pytest.raises(PreconditionFailed):
        await fakes[DeletePost](ALICE, post.id, expected_versions={1})
    with pytest.raises(PreconditionFailed):
        await fakes[DeleteComment](BOB, comment.id, expected_versions={2})
    assert post.id in fakes.db["posts"]
    assert comment.id in fakes.db["comments"]
    # region: openfga
    assert fakes.db.outbox == []
    # endregion

    await fakes[DeleteComment](BOB, comment.id, expected_versions={1})
    await fakes[DeletePost](ALICE, post.id, expected_versions={1, 2})
    assert fakes.db["posts"] == {}
    assert fakes.db["comments"] == {}


async def test_stranger_cannot_update_or_delete_but_admin_can(fakes):
    post = await fakes[CreatePost](ALICE, "mine")

    with pytest.raises(Forbidden):
        await fakes[UpdatePost](BOB, post.id, "hijack")
    with pytest.raises(Forbidden):
        await fakes[DeletePost](BOB, post.id)
    assert fakes.db["posts"][post.id].content == "mine"

    calls_before = len(fakes.authorizer.calls)
    await fakes[UpdatePost](ADMIN, post.id, "moderated")
    await fakes[DeletePost](ADMIN, post.id)
    assert post.id not in fakes.db["posts"]
    assert len(fakes.authorizer.calls) == calls_before, "admins are decided from the token, not asked of the authorizer"


async def test_deleting_a_post_takes_its_comments_its_shares_and_their_tuples(fakes):
    post = await fakes[CreatePost](ALICE, "post")
    comment = await fakes[CreateComment](BOB, post.id, "nice")
    await fakes[ShareWithUser](ALICE, post.id, BOB.id)
    # region: openfga
    fakes.db.outbox.clear()
    # endregion

    await fakes[DeletePost](ALICE, post.id)

    assert fakes.db["comments"] == {}
    assert fakes.db["post_editor"] == {}
    # region: openfga
    assert set(fakes.db.outbox) == {
        RelationChange("delete", f"user:{ALICE.id}", "owner", f"post:{post.id}"),
        RelationChange("delete", f"user:{BOB.id}", "editor", f"post:{post.id}"),
        RelationChange("delete", f"user:{BOB.id}", "owner", f"comment:{comment.id}"),
        RelationChange("delete", f"post:{post.id}", "post", f"comment:{comment.id}"),
    }
    # endregion


async def test_comment_on_unknown_post_is_not_found_and_writes_nothing(fakes):
    with pytest.raises(NotFound):
        await fakes[CreateComment](ALICE, uuid.uuid4(), "hello?")
    assert fakes.db["comments"] == {}
    assert fakes.db["users"] == {}


async def test_comment_owner_rules(fakes):
    post = await fakes[CreatePost](ALICE, "post")
    comment = await fakes[CreateComment](BOB, post.id, "by bob")

    with pytest.raises(Forbidden):  # the post's owner does not own the comment
        await fakes[UpdateComment](ALICE, comment.id, "edited by alice")
    updated = await fakes[UpdateComment](BOB, comment.id, "edited", expected_versions={1})
    assert updated.version == 2

    with pytest.raises(Forbidden):  # a stranger
        await fakes[DeleteComment](CAROL, comment.id)
    await fakes[DeleteComment](BOB, comment.id)
    assert fakes.db["comments"] == {}


async def test_the_post_owner_may_delete_any_comment_on_it_but_not_edit_it(fakes):
    post = await fakes[CreatePost](ALICE, "post")
    comment = await fakes[CreateComment](BOB, post.id, "spam")
    with pytest.raises(Forbidden):
        await fakes[UpdateComment](ALICE, comment.id, "edited by alice")
    # region: openfga
    fakes.db.outbox.clear()
    # endregion

    await fakes[DeleteComment](ALICE, comment.id)

    assert fakes.db["comments"] == {}
    # region: openfga
    assert set(fakes.db.outbox) == {
        RelationChange("delete", f"user:{BOB.id}", "owner", f"comment:{comment.id}"),
        RelationChange("delete", f"post:{post.id}", "post", f"comment:{comment.id}"),
    }
    # endregion


async def test_a_failure_after_writes_leaves_nothing_behind(fakes):
    fakes.uow.fail_on_commit = RuntimeError("commit failed")
    with pytest.raises(RuntimeError):
        await fakes[CreatePost](ALICE, "lost")
    assert fakes.db["posts"] == {}
    # region: openfga
    assert fakes.db.outbox == []
    # endregion


async def test_each_call_opens_its_own_unit_of_work(fakes):
    create = fakes[CreatePost]
    await create(ALICE, "one")
    await create(ALICE, "two")
    assert len(fakes.uow.opened) == 2
    assert fakes.uow.opened[0] is not fakes.uow.opened[1]


async def test_listing_filters_sorts_and_pages(fakes):
    create = fakes[CreatePost]
    alice_posts = [await create(ALICE, f"a{i}") for i in range(5)]
    await create(BOB, "b0")

    page = await fakes[ListPosts](
        PostQuery(owner_id=ALICE.id, sort_by=SortField.created_at, order=SortOrder.asc, limit=2, offset=1)
    )
    assert [p.content for p in page.items] == ["a1", "a2"]
    assert (page.total, page.limit, page.offset) == (5, 2, 1)

    window = await fakes[ListPosts](
        PostQuery(from_date=alice_posts[1].created_at, to_date=alice_posts[3].created_at, order=SortOrder.asc)
    )
    assert [p.content for p in window.items] == ["a1", "a2", "a3"], "both bounds are inclusive"

    newest = await fakes[ListPosts](PostQuery(limit=1))
    assert newest.items[0].content == "b0"
    assert newest.total == 6


async def test_comment_listing_by_post(fakes):
    first = await fakes[CreatePost](ALICE, "first")
    second = await fakes[CreatePost](ALICE, "second")
    await fakes[CreateComment](BOB, first.id, "on first")
    await fakes[CreateComment](BOB, second.id, "on second")

    page = await fakes[ListComments](CommentQuery(post_id=second.id))
    assert [c.content for c in page.items] == ["on second"]
    assert page.total == 1


@pytest.mark.parametrize("remote", [True, False], ids=["remote: before the transaction", "local: inside it"])
async def test_when_the_authorizer_is_asked(fakes, remote):
    """A remote authorizer is a network call: waiting for it must not hold a row lock and a pooled connection.
    The built-in rule decides from the row, so it is asked inside the transaction, from the locked
    row, which saves a read."""
    asked_while_writing: list[bool] = []

    class Watching(OwnerAuthorizer):
        async def is_allowed(self, principal, action, resource):
            asked_while_writing.append(fakes.uow.writing)
            return await super().is_allowed(principal, action, resource)

    fakes.ports[Authorizer] = Watching(remote=remote)
    post = await fakes[CreatePost](ALICE, "post")
    comment = await fakes[CreateComment](BOB, post.id, "comment")

    await fakes[UpdatePost](ALICE, post.id, "edited")
    await fakes[UpdateComment](BOB, comment.id, "edited")
    with pytest.raises(Forbidden):
        await fakes[DeletePost](BOB, post.id)
    await fakes[DeleteComment](BOB, comment.id)
    await fakes[DeletePost](ALICE, post.id)

    assert asked_while_writing == [not remote] * 5
    assert fakes.db["posts"] == {}


async def test_a_post_deleted_after_the_permission_check_is_not_found(fakes):
    post = await fakes[CreatePost](ALICE, "post")

    class DeletesMeanwhile(OwnerAuthorizer):
        async def is_allowed(self, principal, action, resource):
            fakes.db["posts"].pop(resource.id, None)  # a concurrent delete wins the race
            return await super().is_allowed(principal, action, resource)

    fakes.ports[Authorizer] = DeletesMeanwhile(remote=True)
    with pytest.raises(NotFound):  # a remote authorizer is asked before the transaction loads the row again
        await fakes[UpdatePost](ALICE, post.id, "too late")
