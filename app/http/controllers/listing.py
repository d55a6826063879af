"""Query parameters shared by the listings, validated by Litestar (a bad value is a 400 naming it)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar.openapi.spec.enums import OpenAPIFormat
from litestar.params import QueryParameter

from domain.errors import InvalidInput
from domain.listing import MAX_OFFSET, ListQuery, SortField, SortOrder


def _date_time(name: str, raw: str | None) -> datetime | None:
    """An RFC 3339 date-time; one without an offset is read as UTC.

    Parsed here rather than by Litestar, whose lenient conversion takes a number as a Unix
    timestamp (``to_date=0.5``), and a value whose UTC instant falls outside years 1–9999 is
    refused rather than overflowing in the driver.
    """
    if raw is None:
        return None
    try:
        value = msgspec.convert(raw, datetime)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value.astimezone(UTC)
    except (msgspec.ValidationError, OverflowError):
        raise InvalidInput(name, "must be an ISO 8601 date-time such as 2024-05-01T12:00:00Z") from None
    return value


def _offset(raw: str | None) -> int | None:
    """A count of rows, digits only; past the cap (however long) it is the domain's to refuse."""
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise InvalidInput("offset", f"must be a whole number from 0 to {MAX_OFFSET:,}")
    return int(raw) if len(raw) <= len(str(MAX_OFFSET)) else MAX_OFFSET + 1


# The listings' query parameters, declared on each listing handler itself. Not a Litestar dependency
# on purpose: a handler with two dependencies at one level (this and its use case) has them resolved
# concurrently in an anyio task group, which cost as much CPU as the listing's query (benchmarks/README.md).
# The schemas are stated where Litestar's would be wrong for a client: a query value is a string or
# absent, never null (and its format belongs on the string), and bounds are integers (Litestar
# writes them as floats: 2**63-1 as 9.223372036854776e18, which is another number).
_DATE_TIME = {"one_of": None, "type": "string", "format": OpenAPIFormat.DATE_TIME}
OwnerFilter = Annotated[uuid.UUID | None, QueryParameter(description="only items of this user")]
FromDate = Annotated[
    str | None, QueryParameter(description="created at or after (date-time, inclusive)", schema_extra=_DATE_TIME)
]
ToDate = Annotated[
    str | None, QueryParameter(description="created at or before (date-time, inclusive)", schema_extra=_DATE_TIME)
]
SortBy = Annotated[SortField, QueryParameter(description="field to sort on")]
Order = Annotated[SortOrder, QueryParameter(description="sort direction")]
Limit = Annotated[
    int, QueryParameter(ge=1, le=100, description="page size", schema_extra={"minimum": 1, "maximum": 100})
]
# Read by hand (``_offset``), as the dates are: Litestar would take `offset=null` for "absent" on an
# optional integer. The cap is the domain's (ListQuery), whose 400 points to cursors.
Offset = Annotated[
    str | None,
    QueryParameter(
        description=f"items to skip, at most {MAX_OFFSET:,}; deeper, follow `next_cursor`",
        schema_extra={"one_of": None, "type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
    ),
]
Cursor = Annotated[
    str | None,
    QueryParameter(
        description=(
            "the `next_cursor` of the page before, as it came: the next page of the same listing (same filters "
            "and order), costing the same at any depth; not with `offset`"
        ),
        max_length=200,
        schema_extra={"one_of": None, "type": "string"},
    ),
]

_DEFAULT = ListQuery()
SORT_BY, ORDER, LIMIT = _DEFAULT.sort_by, _DEFAULT.order, _DEFAULT.limit


def list_query[Q: ListQuery](
    owner_id: uuid.UUID | None,
    from_date: str | None,
    to_date: str | None,
    sort_by: SortField,
    order: SortOrder,
    limit: int,
    offset: str | None,
    cursor: str | None,
    query: type[Q] = ListQuery,  # type: ignore[assignment]
    **filters: object,
) -> Q:
    """The use case's query from the handler's parameters (Litestar has checked types and bounds);
    ``query`` a listing's own query struct, ``filters`` its further filters (e.g. ``post_id``)."""
    start, end = _date_time("from_date", from_date), _date_time("to_date", to_date)
    if start is not None and end is not None and start > end:
        raise InvalidInput("from_date", "must not be after to_date")
    return query(
        owner_id=owner_id,
        from_date=start,
        to_date=end,
        sort_by=sort_by,
        order=order,
        limit=limit,
        offset=_offset(offset),
        cursor=cursor,
        **filters,
    )
