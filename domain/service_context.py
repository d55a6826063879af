"""The service context: the maintenance flag every instance reads, and its port."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Protocol, Self

import msgspec

NEVER = datetime(1970, 1, 1, tzinfo=UTC)


class ServiceContext(msgspec.Struct, frozen=True):
    maintenance: bool
    updated_at: datetime
    updated_by: uuid.UUID | None = None

    @classmethod
    def initial(cls) -> Self:
        """What holds before anyone has set it: not in maintenance, "changed" at the Unix epoch."""
        return cls(maintenance=False, updated_at=NEVER)


class ServiceContextRepository(Protocol):
    async def get(self) -> ServiceContext | None:
        """The stored context, or None before anyone has set it."""
        ...

    async def save(self, context: ServiceContext) -> None: ...
