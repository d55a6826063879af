"""What a listing asks for and what it returns, independent of HTTP and SQL."""

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
    post_id: uuid.UUID | None = None
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
