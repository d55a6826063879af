"""Query parameters shared by the listings, validated by Litestar (a bad value is a 400 naming it)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from litestar.params import QueryParameter

from domain.errors import InvalidInput
from domain.listing import ListQuery, SortField, SortOrder


def _utc(value: datetime | None) -> datetime | None:
    # A date-time without an offset is read as UTC.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


async def list_query(
    owner_id: Annotated[uuid.UUID | None, QueryParameter(description="only items of this user")] = None,
    from_date: Annotated[
        datetime | None, QueryParameter(description="created at or after (ISO 8601 date-time, inclusive)")
    ] = None,
    to_date: Annotated[
        datetime | None, QueryParameter(description="created at or before (ISO 8601 date-time, inclusive)")
    ] = None,
    sort_by: Annotated[SortField, QueryParameter(description="field to sort on")] = SortField.updated_at,
    order: Annotated[SortOrder, QueryParameter(description="sort direction")] = SortOrder.desc,
    limit: Annotated[int, QueryParameter(ge=1, le=100, description="page size")] = 20,
    offset: Annotated[int, QueryParameter(ge=0, description="items to skip")] = 0,
) -> ListQuery:
    from_date, to_date = _utc(from_date), _utc(to_date)
    if from_date is not None and to_date is not None and from_date > to_date:
        raise InvalidInput("from_date", "must not be after to_date")
    return ListQuery(
        owner_id=owner_id,
        from_date=from_date,
        to_date=to_date,
        sort_by=sort_by,
        order=order,
        limit=limit,
        offset=offset,
    )
