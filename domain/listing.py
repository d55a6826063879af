"""What a listing asks for and what it returns, independent of HTTP and SQL.

``ListQuery`` is the listing of posts (and the base of others: ``CommentQuery`` adds ``post_id``):
filters, one sort field, an order, a page. A resource with other filters or sort fields declares
its own query struct beside its entity; the SQL side (adapters/db/sql.py: ``Listing``) reads the
filters by name, ``sort_by.value`` as the column, ``order``, ``limit`` and ``offset``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import msgspec


class SortField(StrEnum):
    created_at = "created_at"
    updated_at = "updated_at"


class SortOrder(StrEnum):
    asc = "asc"
    desc = "desc"


class ListQuery(msgspec.Struct, frozen=True):
    owner_id: uuid.UUID | None = None
    from_date: datetime | None = None
    to_date: datetime | None = None
    sort_by: SortField = SortField.updated_at
    order: SortOrder = SortOrder.desc
    limit: int = 20
    offset: int = 0


class Page[T](msgspec.Struct, frozen=True):
    items: list[T]
    total: int
    limit: int
    offset: int
