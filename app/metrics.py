"""Prometheus metrics (``METRICS_ENABLED=true``), served as text at ``GET /metrics``.

- ``http_requests_total`` and ``http_request_duration_seconds`` (histogram), labelled with
  ``method``, ``route`` (the route template, ``unmatched`` for 404s without a route) and ``status``.
- With the gRPC server on (GRPC_PORT): ``grpc_server_handled_total`` and
  ``grpc_server_handling_seconds`` (histogram), labelled with ``grpc_service``, ``grpc_method`` and
  ``grpc_code`` (e.g. ``NOT_FOUND``), the names go-grpc-prometheus made customary. Only registered
  methods are counted (an unknown one is refused before it reaches the interceptor).
- ``db_pool_connections`` (``state`` = ``in_use`` / ``idle``) and ``db_pool_max_connections``:
  the asyncpg pool of this process (absent on SQLite, which has no pool).
- ``http_requests_in_flight``, ``http_requests_waiting`` and ``http_requests_shed_total``: the
  admission control of this process (app/http/admission.py), read at scrape time.
- Gauges registered where the metrics are built (app/factories.py) with ``add_gauge(name, help,
  read)``: ``read`` is an async callable awaited at scrape time (bounded), e.g. the outbox backlog.
- Process metrics (CPU, memory, open files, GC) of this process.

Each process has its own registry: with several Granian workers (``WEB_CONCURRENCY`` > 1) a
scrape is answered by one worker and shows that worker's numbers (see README, "Operating it").
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from app.http.admission import Admission

log = logging.getLogger(__name__)

GAUGE_READ_TIMEOUT_SECONDS = 2.0
# Labels come from a closed set, so a client cannot grow the registry with made-up methods.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

type PoolStats = Callable[[], tuple[int, int, int] | None]  # (size, idle, max) or None: no pool


class Metrics:
    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created series would double the output
        self.registry = CollectorRegistry()
        labels = ("method", "route", "status")
        self._requests = Counter(
            "http_requests", "HTTP requests answered, by route template", labels, registry=self.registry
        )
        self._latency = Histogram(
            "http_request_duration_seconds",
            "Time from the request's arrival to the end of its response, by route template",
            labels,
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._rpc: tuple[Counter, Histogram] | None = None  # created by the first call: gRPC is optional
        self._rpc_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}
        self._gauges: list[tuple[Gauge, Callable[[], Awaitable[float]]]] = []
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:  # resolving labels takes a lock and a lookup: once per combination
            label = (method if method in _METHODS else "OTHER", route, str(status))
            children = self._children[key] = (self._requests.labels(*label), self._latency.labels(*label))
        children[0].inc()
        children[1].observe(seconds)

    def observe_rpc(self, service: str, method: str, code: str, seconds: float) -> None:
        key = (service, method, code)
        children = self._rpc_children.get(key)
        if children is None:
            if self._rpc is None:
                labels = ("grpc_service", "grpc_method", "grpc_code")
                self._rpc = (
                    Counter(
                        "grpc_server_handled", "gRPC calls answered, by method and code", labels, registry=self.registry
                    ),
                    Histogram(
                        "grpc_server_handling_seconds",
                        "Time from a gRPC call's arrival to its status, by method and code",
                        labels,
                        registry=self.registry,
                    ),
                )
            counter, histogram = self._rpc
            children = self._rpc_children[key] = (counter.labels(*key), histogram.labels(*key))
        children[0].inc()
        children[1].observe(seconds)

    def add_pool(self, stats: PoolStats) -> None:
        self.registry.register(_PoolCollector(stats))

    def add_admission(self, admission: Admission) -> None:
        self.registry.register(_AdmissionCollector(admission))

    def add_gauge(self, name: str, documentation: str, read: Callable[[], Awaitable[float]]) -> None:
        """A gauge whose value ``read()`` returns at each scrape; NaN if it fails or is slow."""
        self._gauges.append((Gauge(name, documentation, registry=self.registry), read))

    async def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """The exposition (Prometheus text, or OpenMetrics if ``accept`` asks) and its content type."""
        for gauge, read in self._gauges:
            try:
                async with asyncio.timeout(GAUGE_READ_TIMEOUT_SECONDS):
                    gauge.set(await read())
            except Exception as exc:
                log.warning("metric %s could not be read: %s", gauge._name, type(exc).__name__)
                gauge.set(math.nan)
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type


class _PoolCollector(Collector):
    def __init__(self, stats: PoolStats) -> None:
        self._stats = stats

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stats = self._stats()
        if stats is None:
            return
        size, idle, maximum = stats
        connections = GaugeMetricFamily(
            "db_pool_connections", "Connections in this process's database pool", labels=["state"]
        )
        connections.add_metric(["in_use"], size - idle)
        connections.add_metric(["idle"], idle)
        yield connections
        yield GaugeMetricFamily("db_pool_max_connections", "Upper bound of the pool (DB_POOL_MAX)", value=maximum)


class _AdmissionCollector(Collector):
    def __init__(self, admission: Admission) -> None:
        self._admission = admission

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        admission = self._admission
        yield GaugeMetricFamily(
            "http_requests_in_flight",
            "Requests inside the app now (ADMISSION_MAX_IN_FLIGHT bounds it)",
            admission.in_flight,
        )
        yield GaugeMetricFamily("http_requests_waiting", "Requests waiting for a slot now", admission.waiting)
        yield CounterMetricFamily(
            "http_requests_shed", "Requests refused with 503 because no slot came in time", admission.shed
        )
