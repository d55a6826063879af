"""Parity: one table of questions, asked of both authorizers, which must answer as the table says.

The scenario is played once per engine through the use cases, on the real database and outbox:
shares with a user and a Keycloak group, a membership that ends, a share taken back, a group
deleted in Keycloak, a comment on the post. Then:

- the built-in authorizer (adapters/authz/builtin.py) is asked every question of TABLE, on the
  database the scenario left;
- OpenFGA is asked the same questions by its real engine, not by a stand-in that re-implements the
  rules: the tuples are exactly what the outbox recorded (writes and deletes replayed in order, as
  the relay delivers them), written with one assertion per question into a ``.fga.yaml`` that
  ``fga model test`` runs against adapters/authz/model.fga.

Admins are decided from the token before either authorizer is asked (domain.policy); their row is
asked of the policy with each authorizer behind it.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import yaml

from adapters.authz.builtin import BuiltinAuthorizer
from adapters.clock import SystemClock
from adapters.db.comments import PiccoloCommentRepository
from adapters.db.idempotency import PiccoloIdempotencyKeys
from adapters.db.outbox import PiccoloOutbox
from adapters.db.posts import PiccoloPostRepository
from adapters.db.sharing import PiccoloGroupRepository, PiccoloSharingRepository
from adapters.db.sql import Statement, fetch
from adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from adapters.db.users import PiccoloUserRepository
from domain.comments import Comment
from domain.errors import Forbidden
from domain.model import Principal
from domain.policy import ensure_allowed
from domain.ports import Action, Authorizer
from domain.posts import Post
from domain.sharing import GroupEvent, MembershipEvent
from domain.use_cases.comments import CreateComment
from domain.use_cases.posts import CreatePost
from domain.use_cases.sharing import ShareWithGroup, ShareWithUser, UnshareWithUser
from domain.use_cases.user_sync import SyncGroup
from domain.use_cases.users import GetCurrentUser
from tests.support.openfga import fga_binary

MODEL_FILE = Path(__file__).resolve().parents[2] / "adapters" / "authz" / "model.fga"

# Each actor's path to (or away from) the permission; each action, the question it asks.
TABLE = """
actor                 update  delete  share  list_editors  moderate  edit_comment
owner                 yes     yes     yes    yes           yes       no
direct_editor         yes     no      no     yes           no        no
group_member          yes     no      no     yes           no        no
ex_member             no      no      no     no            no        no
revoked_editor        no      no      no     no            no        no
deleted_group_member  no      no      no     no            no        no
stranger              no      no      no     no            no        no
commenter             no      no      no     no            yes       yes
admin                 yes     yes     yes    yes           yes       yes
"""
# action → (the resource asked about, the relation asked)
ACTIONS: dict[str, tuple[str, Action]] = {
    "update": ("post", "can_update"),
    "delete": ("post", "can_delete"),
    "share": ("post", "can_share"),
    "list_editors": ("post", "can_list_editors"),
    "moderate": ("comment", "can_delete"),
    "edit_comment": ("comment", "can_update"),
}


def _table() -> dict[tuple[str, str], bool]:
    header, *rows = (line.split() for line in TABLE.strip().splitlines())
    assert header[1:] == list(ACTIONS), "the table's columns are the actions"
    return {
        (row[0], action): answer == "yes" for row in rows for action, answer in zip(header[1:], row[1:], strict=True)
    }


EXPECTED = _table()
ACTORS = sorted({actor for actor, _ in EXPECTED})


def _principal(actor: str) -> Principal:
    return Principal(id=uuid.uuid5(uuid.NAMESPACE_DNS, f"{actor}.parity"), username=actor, is_admin=actor == "admin")


async def _play(engine: Any) -> tuple[Post, Comment]:
    """The scenario, through the use cases, on the real database and outbox."""
    clock = SystemClock()
    uow = PiccoloUnitOfWorkFactory(engine, PiccoloOutbox(clock))
    posts, users = PiccoloPostRepository(engine), PiccoloUserRepository(engine)
    sharing, groups = PiccoloSharingRepository(engine), PiccoloGroupRepository(engine)
    authorizer = BuiltinAuthorizer(posts, sharing)
    who = {actor: _principal(actor) for actor in ACTORS}
    for principal in who.values():
        await GetCurrentUser(uow, users, clock)(principal)
    staff, gone = uuid.uuid4(), uuid.uuid4()
    sync = SyncGroup(uow, groups)

    def member(actor: str, group: uuid.UUID, joined: bool, time_ms: int) -> MembershipEvent:
        return MembershipEvent(who[actor].id, GroupEvent(group, time_ms, name=str(group), path="/g"), joined)

    keys = PiccoloIdempotencyKeys(engine)
    post = await CreatePost(uow, posts, users, keys, clock)(who["owner"], "the post")
    comment = await CreateComment(uow, PiccoloCommentRepository(engine), posts, users, keys, clock)(
        who["commenter"], post.id, "a comment"
    )
    share_user = ShareWithUser(uow, posts, users, sharing, authorizer)
    await share_user(who["owner"], post.id, who["direct_editor"].id)
    await share_user(who["owner"], post.id, who["revoked_editor"].id)
    await UnshareWithUser(uow, posts, sharing, authorizer)(who["owner"], post.id, who["revoked_editor"].id)
    for actor in ("group_member", "ex_member"):
        await sync.apply(member(actor, staff, True, 10))
    await sync.apply(member("ex_member", staff, False, 20))
    await sync.apply(member("deleted_group_member", gone, True, 10))
    share_group = ShareWithGroup(uow, posts, groups, sharing, authorizer)
    await share_group(who["owner"], post.id, staff)
    await share_group(who["owner"], post.id, gone)
    await sync.apply(GroupEvent(gone, 30, deleted=True))
    return post, comment


async def _answer(authorizer: Authorizer, actor: str, action: str, post: Post, comment: Comment) -> bool:
    kind, relation = ACTIONS[action]
    try:
        await ensure_allowed(authorizer, _principal(actor), relation, post if kind == "post" else comment)
    except Forbidden:
        return False
    return True


_OUTBOX = Statement("SELECT op, subject, relation, object FROM relation_outbox ORDER BY id")


async def _tuples_openfga_would_hold(engine: Any) -> set[tuple[str, str, str]]:
    """The outbox replayed in order, as the relay delivers it."""
    held: set[tuple[str, str, str]] = set()
    for op, subject, relation, object_ in await fetch(engine, _OUTBOX):
        (held.add if op == "write" else held.discard)((subject, relation, object_))
    return held


async def test_both_authorizers_answer_every_question_as_the_table_says(engine: Any, tmp_path: Path) -> None:
    post, comment = await _play(engine)

    builtin = BuiltinAuthorizer(PiccoloPostRepository(engine), PiccoloSharingRepository(engine))
    answers = {(actor, action): await _answer(builtin, actor, action, post, comment) for actor, action in EXPECTED}
    wrong = {question: answer for question, answer in answers.items() if answer != EXPECTED[question]}
    assert not wrong, f"the built-in authorizer answers otherwise than the table: {wrong}"

    tuples = await _tuples_openfga_would_hold(engine)
    checks = [
        {
            "user": f"user:{_principal(actor).id}",
            "object": f"{kind}:{post.id if kind == 'post' else comment.id}",
            "assertions": {relation: EXPECTED[actor, action]},
        }
        for actor, action in sorted(EXPECTED)
        if actor != "admin"  # never asked: decided from the token (domain.policy)
        for kind, relation in [ACTIONS[action]]
    ]
    spec = {
        "name": "parity",
        "model_file": str(MODEL_FILE),
        "tuples": [{"user": u, "relation": r, "object": o} for u, r, o in sorted(tuples)],
        "tests": [{"name": "every question of the parity table", "check": checks}],
    }
    tests_file = tmp_path / "parity.fga.yaml"
    tests_file.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = await asyncio.to_thread(
        subprocess.run,
        [str(fga_binary()), "model", "test", "--allow-external-files", "--tests", str(tests_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = re.search(r"^Checks (\d+)/(\d+) passing$", output, re.MULTILINE)
    assert summary is not None, output
    assert summary.group(1) == summary.group(2) == str(len(checks)), output

    # The admin row, through the policy with OpenFGA behind it: answered without asking.
    class NeverAsked:
        remote = True

        async def is_allowed(self, *args: Any) -> bool:
            raise AssertionError("an admin's question reached the authorizer")

    for action in ACTIONS:
        assert await _answer(NeverAsked(), "admin", action, post, comment) is EXPECTED["admin", action]


def test_the_table_asks_every_action_of_every_path_to_the_permission() -> None:
    assert len(ACTORS) == 9
    assert len(ACTIONS) == 6
    assert len(EXPECTED) == len(ACTORS) * len(ACTIONS)
    # each relation of the model is asked both ways somewhere in the table
    for action in ACTIONS:
        assert {EXPECTED[actor, action] for actor in ACTORS} == {True, False}, action
