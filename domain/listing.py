"""What a listing asks for and what it returns, independent of HTTP and SQL.

``ListQuery`` is the listing of posts (and the base of others: ``CommentQuery`` adds ``post_id``):
filters, one sort field, an order, a page. A resource with other filters or sort fields declares
its own query struct beside its entity; the SQL side (adapters/db/sql.py: ``Listing``) reads the
filters by name, ``sort_by.value`` as the column, ``order``, ``limit``, and ``offset`` or ``cursor``.

A page is reached by ``offset`` (rows to skip, at most ``MAX_OFFSET``: the database reads and
drops every skipped row) or by ``cursor``, the ``next_cursor`` of the page before (the database
starts right after that page's last row, so a page costs the same at any depth). A cursor is
opaque to callers: the last row's sort value and id, and a check over the listing's name, the
query's filters and order and that position, so a cursor altered, or carried to another listing
or other filters, is refused (``InvalidInput``) rather than paging through something else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import operator
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import msgspec

from domain.errors import InvalidInput

# How many rows one request may make the database skip; deeper, a listing continues by cursor.
MAX_OFFSET = 10_000


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
    offset: int | None = None  # None: not given (the first page, or the cursor's)
    cursor: str | None = None

    def __post_init__(self) -> None:
        if self.offset is not None:
            if self.cursor is not None:
                raise InvalidInput("cursor", "a cursor continues a listing on its own: send it without offset")
            if self.offset > MAX_OFFSET:
                raise InvalidInput(
                    "offset", f"must be at most {MAX_OFFSET:,}; page deeper with cursor=<next_cursor of a page>"
                )


class Page[T](msgspec.Struct, frozen=True):
    items: list[T]
    total: int
    limit: int
    offset: int  # 0 on a page reached by cursor: its position is the cursor's
    next_cursor: str | None = None  # None on the last page


# The query's fields that say where a page starts, not what is listed: outside a cursor's check.
_PAGING = frozenset({"limit", "offset", "cursor"})
_CHECK_BYTES = 8


class _Cursor(msgspec.Struct, array_like=True, frozen=True):
    after: int  # the sort value of the last row of the page before, in µs since 1970 (both engines' precision)
    id: uuid.UUID  # and its id, which breaks ties between equal sort values
    check: bytes


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


_encode = msgspec.msgpack.Encoder(uuid_format="bytes").encode
_decode = msgspec.msgpack.Decoder(_Cursor).decode


_scopes: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _check(listing: str, query: ListQuery, after: datetime, row_id: uuid.UUID) -> bytes:
    scope = _scopes.get(type(query))
    if scope is None:  # once per query type: the names of its filters and order
        names = [name for name in query.__struct_fields__ if name not in _PAGING]
        scope = _scopes[type(query)] = operator.attrgetter(*names)
    return hashlib.blake2b(_encode((listing, after, row_id, scope(query))), digest_size=_CHECK_BYTES).digest()


def cursor_after(listing: str, query: ListQuery, after: datetime, row_id: uuid.UUID) -> str:
    """The cursor of the page that follows the row (``after``, ``row_id``) in ``listing`` under ``query``."""
    token = _encode(_Cursor((after - _EPOCH) // _MICROSECOND, row_id, _check(listing, query, after, row_id)))
    return base64.urlsafe_b64encode(token).rstrip(b"=").decode("ascii")


def cursor_position(listing: str, query: ListQuery) -> tuple[datetime, uuid.UUID] | None:
    """Where ``query.cursor`` starts (after this sort value and id), None without a cursor.
    A cursor that is malformed, altered, or made by another listing, filters or order → InvalidInput."""
    if query.cursor is None:
        return None
    try:
        raw = query.cursor.encode("ascii")
        cursor = _decode(base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4)))
        after = _EPOCH + cursor.after * _MICROSECOND
    except (UnicodeEncodeError, binascii.Error, ValueError, OverflowError, msgspec.DecodeError):
        raise InvalidInput("cursor", "is not a cursor this service made: pass a page's next_cursor as it is") from None
    if cursor.check != _check(listing, query, after, cursor.id):
        raise InvalidInput(
            "cursor", "belongs to another listing, other filters or another order: page on with the same query"
        ) from None
    return after, cursor.id
