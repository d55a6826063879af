"""Comments in the database: the table, and every statement the repository and the reader send.

Rows map positionally onto ``domain.comments.Comment``: each SELECT names its columns in the entity's field order.
"""

from __future__ import annotations

import uuid

from msgspec.structs import astuple
from piccolo.columns import UUID, ForeignKey, Integer, Text, Timestamptz
from piccolo.columns.base import OnDelete
from piccolo.engine.base import Engine
from piccolo.table import Table

from adapters.db.posts import PostTable
from adapters.db.sql import Listing, Statement, fetch
from adapters.db.users import UserTable
from domain.comments import Comment, CommentQuery
from domain.listing import Page


class CommentTable(Table, tablename="comment"):
    id = UUID(primary_key=True)
    post_id = ForeignKey(references=PostTable, on_delete=OnDelete.cascade, null=False)
    owner_id = ForeignKey(references=UserTable, on_delete=OnDelete.restrict, null=False)
    content = Text()
    created_at = Timestamptz()
    updated_at = Timestamptz(index=True)
    version = Integer(default=1)


GET = Statement(
    'SELECT "id", "post_id", "owner_id", "content", "created_at", "updated_at", "version" FROM "comment" WHERE "id" = $1'
)
GET_FOR_UPDATE = Statement(
    'SELECT "id", "post_id", "owner_id", "content", "created_at", "updated_at", "version" FROM "comment" '
    'WHERE "id" = $1 FOR UPDATE',
    sqlite=GET,  # no row locks: SQLite's IMMEDIATE transaction already holds the whole database
)
INSERT = Statement(
    'INSERT INTO "comment" ("id", "post_id", "owner_id", "content", "created_at", "updated_at", "version") '
    "VALUES ($1, $2, $3, $4, $5, $6, $7)"
)
# A compare-and-set: stored only over the version before it ($5).
UPDATE = Statement(
    'UPDATE "comment" SET "content" = $2, "updated_at" = $3, "version" = $4 WHERE "id" = $1 AND "version" = $5 '
    'RETURNING "id"'
)
DELETE = Statement('DELETE FROM "comment" WHERE "id" = $1')
OWNERS_ON_POST = Statement('SELECT "id", "owner_id" FROM "comment" WHERE "post_id" = $1')

LISTING = Listing(
    "comment",
    '"id", "post_id", "owner_id", "content", "created_at", "updated_at", "version"',
    filters={
        "owner_id": '"owner_id" = {}',
        "post_id": '"post_id" = {}',
        "from_date": '"created_at" >= {}',
        "to_date": '"created_at" <= {}',
    },
    sort_columns=("created_at", "updated_at"),
    counted_by_triggers=True,
)


class PiccoloCommentRepository:
    def __init__(self, engine: Engine) -> None:  # type: ignore[type-arg]
        self._engine = engine

    async def get(self, comment_id: uuid.UUID, *, for_update: bool = False) -> Comment | None:
        rows = await fetch(self._engine, GET_FOR_UPDATE if for_update else GET, comment_id)
        return Comment(*rows[0]) if rows else None

    async def add(self, comment: Comment) -> None:
        await fetch(self._engine, INSERT, *astuple(comment))

    async def update(self, comment: Comment) -> bool:
        stored = await fetch(
            self._engine, UPDATE, comment.id, comment.content, comment.updated_at, comment.version, comment.version - 1
        )
        return bool(stored)

    async def delete(self, comment_id: uuid.UUID) -> None:
        await fetch(self._engine, DELETE, comment_id)

    async def owners_on_post(self, post_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID]]:
        return [(row[0], row[1]) for row in await fetch(self._engine, OWNERS_ON_POST, post_id)]


class PiccoloCommentReader:
    def __init__(self, engine: Engine) -> None:  # type: ignore[type-arg]
        self._engine = engine

    async def list(self, query: CommentQuery) -> Page[Comment]:
        return await LISTING.page(self._engine, query, Comment)
