"""Sharing and groups with in-memory fakes: who may share, what a share grants, and how Keycloak's
group events (ordered by time, replay-safe) change memberships and shares, each with its tuples."""

from __future__ import annotations

import uuid

import pytest

from domain.errors import Forbidden, InvalidInput, NotFound
from domain.ports import RelationChange
from domain.sharing import Editors, GroupEvent, MembershipEvent
from domain.use_cases.comments import CreateComment
from domain.use_cases.posts import CreatePost, DeletePost, UpdatePost
from domain.use_cases.sharing import ListEditors, ShareWithGroup, ShareWithUser, UnshareWithGroup, UnshareWithUser
from domain.use_cases.user_sync import SyncGroup
from domain.use_cases.users import GetCurrentUser
from tests.fakes import Fakes, principal

ALICE, BOB, CAROL, ADMIN = principal("alice"), principal("bob"), principal("carol"), principal("root", admin=True)
STAFF = uuid.UUID("0e6c1d2a-7b3f-4c5d-8e9f-a1b2c3d4e5f6")


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


async def known(fakes: Fakes, *who) -> None:
    for person in who:
        await fakes[GetCurrentUser](person)


def membership(user, joined: bool, time_ms: int, group: uuid.UUID = STAFF) -> MembershipEvent:
    return MembershipEvent(user.id, GroupEvent(group, time_ms, name="staff", path="/staff"), joined)


async def test_the_owner_shares_with_a_user_once_and_the_editor_may_update_not_delete_or_reshare(fakes):
    await known(fakes, BOB, CAROL)
    post = await fakes[CreatePost](ALICE, "draft")
    # region: openfga
    fakes.db.outbox.clear()
    # endregion

    await fakes[ShareWithUser](ALICE, post.id, BOB.id)
    await fakes[ShareWithUser](ALICE, post.id, BOB.id)  # a repeat changes nothing

    # region: openfga
    assert fakes.db.outbox == [RelationChange("write", f"user:{BOB.id}", "editor", f"post:{post.id}")]
    # endregion
    assert (await fakes[UpdatePost](BOB, post.id, "edited by bob")).content == "edited by bob"
    assert await fakes[ListEditors](BOB, post.id) == Editors(users=[BOB.id], groups=[])
    with pytest.raises(Forbidden):
        await fakes[DeletePost](BOB, post.id)
    with pytest.raises(Forbidden):
        await fakes[ShareWithUser](BOB, post.id, CAROL.id)
    with pytest.raises(Forbidden):
        await fakes[ListEditors](CAROL, post.id)


async def test_unsharing_takes_it_back_and_a_repeat_changes_nothing(fakes):
    await known(fakes, BOB)
    post = await fakes[CreatePost](ALICE, "draft")
    await fakes[ShareWithUser](ALICE, post.id, BOB.id)
    # region: openfga
    fakes.db.outbox.clear()
    # endregion

    await fakes[UnshareWithUser](ALICE, post.id, BOB.id)
    await fakes[UnshareWithUser](ALICE, post.id, BOB.id)

    # region: openfga
    assert fakes.db.outbox == [RelationChange("delete", f"user:{BOB.id}", "editor", f"post:{post.id}")]
    # endregion
    with pytest.raises(Forbidden):
        await fakes[UpdatePost](BOB, post.id, "too late")


async def test_an_admin_may_share_anyones_post(fakes):
    await known(fakes, BOB)
    post = await fakes[CreatePost](ALICE, "draft")
    await fakes[ShareWithUser](ADMIN, post.id, BOB.id)
    assert await fakes[ListEditors](ADMIN, post.id) == Editors(users=[BOB.id], groups=[])


@pytest.mark.parametrize(
    ("who", "target", "error"),
    [
        ("alice", "alice", InvalidInput),  # the owner is no editor of her own post
        ("alice", "nobody", NotFound),  # a user we never heard of
        ("bob", "carol", Forbidden),  # not the owner
    ],
)
async def test_refused_shares_change_nothing(fakes, who, target, error):
    await known(fakes, BOB, CAROL)
    post = await fakes[CreatePost](ALICE, "draft")
    # region: openfga
    fakes.db.outbox.clear()
    # endregion
    with pytest.raises(error):
        await fakes[ShareWithUser](principal(who), post.id, principal(target).id)
    assert fakes.db["post_editor"] == {}
    # region: openfga
    assert fakes.db.outbox == []
    # endregion


async def test_sharing_an_unknown_post_is_not_found(fakes):
    await known(fakes, BOB)
    with pytest.raises(NotFound):
        await fakes[ShareWithUser](ALICE, uuid.uuid4(), BOB.id)
    with pytest.raises(NotFound):
        await fakes[ListEditors](ALICE, uuid.uuid4())


async def test_a_group_share_makes_its_members_editors_while_they_are_members(fakes):
    post = await fakes[CreatePost](ALICE, "draft")
    with pytest.raises(NotFound):  # a group Keycloak never told us about
        await fakes[ShareWithGroup](ALICE, post.id, STAFF)
    assert await fakes[SyncGroup].apply(membership(BOB, True, 10)) == "created"
    # region: openfga
    fakes.db.outbox.clear()
    # endregion

    await fakes[ShareWithGroup](ALICE, post.id, STAFF)
    await fakes[ShareWithGroup](ALICE, post.id, STAFF)

    # region: openfga
    assert fakes.db.outbox == [RelationChange("write", f"group:{STAFF}#member", "editor", f"post:{post.id}")]
    # endregion
    assert await fakes[ListEditors](BOB, post.id) == Editors(users=[], groups=[STAFF])
    await fakes[UpdatePost](BOB, post.id, "by a member")
    with pytest.raises(Forbidden):
        await fakes[UpdatePost](CAROL, post.id, "not a member")

    assert await fakes[SyncGroup].apply(membership(BOB, False, 11)) == "updated"
    with pytest.raises(Forbidden):
        await fakes[UpdatePost](BOB, post.id, "left the group")

    await fakes[UnshareWithGroup](ALICE, post.id, STAFF)
    assert await fakes[ListEditors](ALICE, post.id) == Editors(users=[], groups=[])


async def test_membership_events_are_ordered_by_time_and_replay_safe(fakes):
    sync = fakes[SyncGroup]
    assert await sync.apply(membership(BOB, False, 20)) == "created"  # a leave that overtook the join
    assert await sync.apply(membership(BOB, True, 10)) == "stale"  # the older join, late: ignored
    # region: openfga
    assert fakes.db.outbox == []
    # endregion
    assert await sync.apply(membership(BOB, True, 30)) == "updated"
    assert await sync.apply(membership(BOB, True, 30)) == "unchanged"  # delivered twice
    # region: openfga
    assert fakes.db.outbox == [RelationChange("write", f"user:{BOB.id}", "member", f"group:{STAFF}")]
    # endregion
    assert fakes.db["memberships"][STAFF, BOB.id].active


async def test_a_deleted_group_ends_its_memberships_and_shares_for_good(fakes):
    post = await fakes[CreatePost](ALICE, "draft")
    sync = fakes[SyncGroup]
    await sync.apply(membership(BOB, True, 10))
    await fakes[ShareWithGroup](ALICE, post.id, STAFF)
    # region: openfga
    fakes.db.outbox.clear()
    # endregion

    assert await sync.apply(GroupEvent(STAFF, 20, deleted=True)) == "updated"

    # region: openfga
    assert set(fakes.db.outbox) == {
        RelationChange("delete", f"user:{BOB.id}", "member", f"group:{STAFF}"),
        RelationChange("delete", f"group:{STAFF}#member", "editor", f"post:{post.id}"),
    }
    # endregion
    with pytest.raises(Forbidden):
        await fakes[UpdatePost](BOB, post.id, "group gone")
    # region: openfga
    fakes.db.outbox.clear()
    # endregion
    assert await sync.apply(membership(BOB, True, 30)) == "stale"  # its id is never reused
    assert await sync.apply(GroupEvent(STAFF, 20, deleted=True)) == "stale"
    with pytest.raises(NotFound):
        await fakes[ShareWithGroup](ALICE, post.id, STAFF)
    # region: openfga
    assert fakes.db.outbox == []
    # endregion


async def test_group_renames_are_ordered_by_time(fakes):
    sync = fakes[SyncGroup]
    assert await sync.apply(GroupEvent(STAFF, 10, name="staff", path="/staff")) == "created"
    assert await sync.apply(GroupEvent(STAFF, 30, name="team", path="/team")) == "updated"
    assert await sync.apply(GroupEvent(STAFF, 20, name="old", path="/old")) == "stale"
    assert fakes.db["groups"][STAFF].name == "team"


async def test_the_post_owner_moderates_comments_through_the_authorizer(fakes):
    post = await fakes[CreatePost](ALICE, "post")
    comment = await fakes[CreateComment](BOB, post.id, "spam")
    # region: openfga
    assert RelationChange("write", f"post:{post.id}", "post", f"comment:{comment.id}") in fakes.db.outbox
    # endregion
