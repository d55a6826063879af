"""What `GET /health/ready` reports. Each check is bounded in time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

READY_TIMEOUT_SECONDS = 2.0


class ReadinessReport(msgspec.Struct):
    ok: bool
    reason: str | None = None
    details: dict[str, Any] = msgspec.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "unavailable", **self.details}


class Readiness:
    """The database must answer ``ping(timeout)``; extra reporters (an integration's backlog, say) add details."""

    def __init__(self, ping: Callable[[float], Awaitable[None]]) -> None:
        self._ping = ping
        self.reporters: list[Callable[[], Awaitable[dict[str, Any]]]] = []

    async def check(self) -> ReadinessReport:
        try:
            await self._ping(READY_TIMEOUT_SECONDS)
        except Exception:
            return ReadinessReport(ok=False, reason="the database is unreachable", details={"database": "down"})
        details: dict[str, Any] = {"database": "ok"}
        for reporter in self.reporters:
            try:
                async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                    details.update(await reporter())
            except Exception as exc:  # a report is informative; it never makes us unready
                details.setdefault("errors", []).append(type(exc).__name__)
        return ReadinessReport(ok=True, details=details)
