"""Maintenance mode: the use cases (fakes) and the per-process cache of the flag."""

from __future__ import annotations

import asyncio

import pytest

from app.maintenance import MaintenanceGate
from domain.errors import Forbidden
from domain.service_context import ServiceContext
from domain.use_cases.service_context import GetServiceContext, SetMaintenance
from tests.fakes import Fakes, principal


async def test_never_set_reads_as_off():
    assert await Fakes()[GetServiceContext]() == ServiceContext.initial()
    assert ServiceContext.initial().maintenance is False


async def test_only_an_admin_may_change_it_and_it_records_who():
    fakes = Fakes()
    with pytest.raises(Forbidden):
        await fakes[SetMaintenance](principal("alice"), True)
    assert await fakes[GetServiceContext]() == ServiceContext.initial(), "a refused change changes nothing"

    root = principal("root", admin=True)
    changed = await fakes[SetMaintenance](root, True)
    assert (changed.maintenance, changed.updated_by, changed.updated_at) == (True, root.id, fakes.clock.current)
    assert await fakes[GetServiceContext]() == changed


async def test_the_operator_changes_it_without_a_principal():
    fakes = Fakes()
    changed = await fakes[SetMaintenance].by_operator(True)
    assert changed.updated_by is None
    assert (await fakes[GetServiceContext]()).maintenance is True


class Flag:
    """The database's flag, as the gate's reader sees it; counts reads; can fail or stall."""

    def __init__(self) -> None:
        self.value = False
        self.reads = 0
        self.error: Exception | None = None
        self.release: asyncio.Event | None = None

    async def read(self) -> bool:
        self.reads += 1
        if self.release is not None:
            await self.release.wait()
        if self.error is not None:
            raise self.error
        return self.value


class Ticker:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_the_gate_reads_once_per_ttl():
    flag, clock = Flag(), Ticker()
    gate = MaintenanceGate(flag.read, ttl=2.0, clock=clock)
    assert await gate.is_on() is False
    flag.value = True
    clock.now += 1.9
    assert await gate.is_on() is False, "within the TTL the cached value answers"
    assert flag.reads == 1
    clock.now += 0.2
    assert await gate.is_on() is True
    assert flag.reads == 2


async def test_concurrent_callers_share_one_read():
    flag = Flag()
    flag.release = asyncio.Event()
    gate = MaintenanceGate(flag.read, ttl=2.0)
    flag.value = True
    callers = [asyncio.create_task(gate.is_on()) for _ in range(20)]
    await asyncio.sleep(0)
    flag.release.set()
    assert await asyncio.gather(*callers) == [True] * 20
    assert flag.reads == 1


async def test_a_failed_or_slow_read_keeps_the_last_known_value():
    flag, clock = Flag(), Ticker()
    gate = MaintenanceGate(flag.read, ttl=1.0, clock=clock, refresh_timeout=0.05)
    flag.value = True
    assert await gate.is_on() is True

    flag.error = ConnectionRefusedError("database down")
    clock.now += 1.5
    assert await gate.is_on() is True
    assert await gate.is_on() is True
    assert flag.reads == 2, "a failure is not retried before the TTL"

    flag.error = None
    flag.release = asyncio.Event()  # never set: the read hangs
    clock.now += 1.5
    assert await gate.is_on() is True, "a stalled read times out and keeps the value"

    flag.release.set()
    flag.value = False
    clock.now += 1.5
    assert await gate.is_on() is False, "recovers once the database answers"


async def test_a_local_change_is_seen_at_once_and_the_ttl_can_change_live():
    flag, clock = Flag(), Ticker()
    gate = MaintenanceGate(flag.read, ttl=60.0, clock=clock)
    assert await gate.is_on() is False
    gate.remember(True)
    assert await gate.is_on() is True
    assert flag.reads == 1
    gate.ttl = 0.0
    gate.remember(False)
    assert await gate.is_on() is False
    assert flag.reads == 2, "with a zero TTL every call reads"
