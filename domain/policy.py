"""Who may do what, stated once. Admin comes from the token's role; everything else from the row
(``ensure_owner``: a resource whose permission is ownership and nothing more) or from the stored
relationships (``GRANTS``, asked through the ``Authorizer`` port).
"""

from __future__ import annotations

import uuid
from typing import Literal, Protocol

from domain.comments import Comment
from domain.errors import Forbidden
from domain.model import Principal
from domain.ports import Action, Authorizer
from domain.posts import Post

# region: blog
# The relationships' grants, which every authorizer answers (adapters/authz/builtin.py from our tables).
# region: openfga
# OpenFGA answers them from adapters/authz/model.fga; the parity suite
# (tests/integration/test_permission_parity.py) asks both every question and requires these answers.
# endregion
#
# | resource | action             | granted to                                            |
# | -------- | ------------------ | ----------------------------------------------------- |
# | post     | `can_update`       | its owner; an editor (directly, or as a group member) |
# | post     | `can_delete`       | its owner                                             |
# | post     | `can_share`        | its owner (changes its editors)                       |
# | post     | `can_list_editors` | its owner; an editor                                  |
# | comment  | `can_update`       | its owner                                             |
# | comment  | `can_delete`       | its owner; the owner of its post (moderation)         |
type Kind = Literal["post", "comment"]
type Grant = Literal["owner", "editor", "post_owner"]

# (resource, action) → the relationships that grant it. "editor": shared with the caller, directly
# or through a group the caller is a member of; "post_owner": the caller owns the comment's post.
GRANTS: dict[tuple[Kind, Action], frozenset[Grant]] = {
    ("post", "can_update"): frozenset({"owner", "editor"}),
    ("post", "can_delete"): frozenset({"owner"}),
    ("post", "can_share"): frozenset({"owner"}),
    ("post", "can_list_editors"): frozenset({"owner", "editor"}),
    ("comment", "can_update"): frozenset({"owner"}),
    ("comment", "can_delete"): frozenset({"owner", "post_owner"}),
}

_REFUSALS: dict[tuple[Kind, Action], str] = {
    ("post", "can_update"): "only the post's owner, its editors or an administrator may update it",
    ("post", "can_delete"): "only the post's owner or an administrator may delete it",
    ("post", "can_share"): "only the post's owner or an administrator may change its editors",
    ("post", "can_list_editors"): "only the post's owner, its editors or an administrator may list its editors",
    ("comment", "can_update"): "only the comment's owner or an administrator may update it",
    ("comment", "can_delete"): "only the comment's owner, the owner of its post or an administrator may delete it",
}


def kind_of(resource: Post | Comment) -> Kind:
    return "post" if isinstance(resource, Post) else "comment"


async def ensure_allowed(
    authorizer: Authorizer, principal: Principal, action: Action, resource: Post | Comment
) -> None:
    if principal.is_admin:
        return
    if not await authorizer.is_allowed(principal, action, resource):
        raise Forbidden(_REFUSALS[kind_of(resource), action])


# endregion


class Owned(Protocol):
    @property
    def owner_id(self) -> uuid.UUID: ...


def ensure_owner(principal: Principal, kind: str, resource: Owned, verb: Literal["update", "delete"]) -> None:
    """Owner or admin, decided from the row alone: the rule of a resource whose permission is
    ownership and nothing more. No authorizer is asked, so none can disagree about it; one that can
    be shared goes through the Authorizer instead."""
    if not (principal.is_admin or resource.owner_id == principal.id):
        raise Forbidden(f"only the {kind}'s owner or an administrator may {verb} it")
