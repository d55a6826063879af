"""Posts in the database: the table, and every statement the repository and the reader send.

Rows map positionally onto ``domain.posts.Post``: each SELECT names its columns in the entity's field order.
"""

from __future__ import annotations

import uuid

from msgspec.structs import astuple
from piccolo.columns import UUID, ForeignKey, Integer, Text, Timestamptz
from piccolo.columns.base import OnDelete
from piccolo.engine.base import Engine
from piccolo.table import Table

from adapters.db.sql import Listing, Statement, fetch
from adapters.db.users import UserTable
from domain.listing import Page
from domain.posts import Post, PostQuery


class PostTable(Table, tablename="post"):
    id = UUID(primary_key=True)
    owner_id = ForeignKey(references=UserTable, on_delete=OnDelete.restrict, null=False)
    content = Text()
    created_at = Timestamptz()
    updated_at = Timestamptz(index=True)
    version = Integer(default=1)


GET = Statement('SELECT "id", "owner_id", "content", "created_at", "updated_at", "version" FROM "post" WHERE "id" = $1')
GET_FOR_UPDATE = Statement(
    'SELECT "id", "owner_id", "content", "created_at", "updated_at", "version" FROM "post" WHERE "id" = $1 FOR UPDATE',
    sqlite=GET,  # no row locks: SQLite's IMMEDIATE transaction already holds the whole database
)
INSERT = Statement(
    'INSERT INTO "post" ("id", "owner_id", "content", "created_at", "updated_at", "version") '
    "VALUES ($1, $2, $3, $4, $5, $6)"
)
# A compare-and-set: stored only over the version before it ($5).
UPDATE = Statement(
    'UPDATE "post" SET "content" = $2, "updated_at" = $3, "version" = $4 WHERE "id" = $1 AND "version" = $5 '
    'RETURNING "id"'
)
DELETE = Statement('DELETE FROM "post" WHERE "id" = $1')  # its comments and shares go with it: ON DELETE CASCADE
OWNER = Statement('SELECT "owner_id" FROM "post" WHERE "id" = $1')  # moderation: adapters/authz/builtin.py

# The posts a user may edit (``editable_by``, {0}: the user id): owned, shared directly, or shared with a
# group the user is an active member of (adapters/db/sharing.py). The set comes from the indexes
# (post_owner_id_created_at, post_editor_user, group_membership_user then post_editor_group_group);
# its posts are then read by primary key, so the cost follows how many posts the user may edit, not
# how many there are. On PostgreSQL as an array (an InitPlan run once): with ``"id" IN (<the set>)``
# the planner, which cannot know the set is small, hash-joined it with a scan of every post (95 ms
# against 6.5 ms at 100,000 posts: benchmarks/README.md, "Sharing"). SQLite has no arrays.
EDITABLE_SET = (
    'SELECT "id" FROM "post" WHERE "owner_id" = {0} '
    'UNION SELECT "post_id" FROM "post_editor" WHERE "user_id" = {0} '
    'UNION SELECT s."post_id" FROM "post_editor_group" AS s '
    'JOIN "group_membership" AS m ON m."group_id" = s."group_id" WHERE m."user_id" = {0} AND m."active"'
)
EDITABLE_BY = (f'"id" = ANY(ARRAY({EDITABLE_SET}))', f'"id" IN ({EDITABLE_SET})')

LISTING = Listing(
    "post",
    '"id", "owner_id", "content", "created_at", "updated_at", "version"',
    filters={
        "owner_id": '"owner_id" = {}',
        "from_date": '"created_at" >= {}',
        "to_date": '"created_at" <= {}',
        "editable_by": EDITABLE_BY,
    },
    sort_columns=("created_at", "updated_at"),
    counted_by_triggers=True,
)


class PiccoloPostRepository:
    def __init__(self, engine: Engine) -> None:  # type: ignore[type-arg]
        self._engine = engine

    async def get(self, post_id: uuid.UUID, *, for_update: bool = False) -> Post | None:
        rows = await fetch(self._engine, GET_FOR_UPDATE if for_update else GET, post_id)
        return Post(*rows[0]) if rows else None

    async def add(self, post: Post) -> None:
        await fetch(self._engine, INSERT, *astuple(post))

    async def update(self, post: Post) -> bool:
        stored = await fetch(
            self._engine, UPDATE, post.id, post.content, post.updated_at, post.version, post.version - 1
        )
        return bool(stored)

    async def delete(self, post_id: uuid.UUID) -> None:
        await fetch(self._engine, DELETE, post_id)

    async def owner_of(self, post_id: uuid.UUID) -> uuid.UUID | None:
        """For the built-in authorizer's moderation rule (adapters/authz/builtin.py)."""
        rows = await fetch(self._engine, OWNER, post_id)
        return rows[0][0] if rows else None


class PiccoloPostReader:
    def __init__(self, engine: Engine) -> None:  # type: ignore[type-arg]
        self._engine = engine

    async def list(self, query: PostQuery) -> Page[Post]:
        return await LISTING.page(self._engine, query, Post)
