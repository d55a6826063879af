"""Prometheus metrics (``METRICS_ENABLED=true``), served as text at ``GET /metrics``.

- ``http_requests_total`` and ``http_request_duration_seconds`` (histogram), labelled with
  ``method``, ``route`` (the route template, ``unmatched`` for 404s without a route) and ``status``.
- With the gRPC server on (GRPC_PORT): ``grpc_server_handled_total`` and
  ``grpc_server_handling_seconds`` (histogram), labelled with ``grpc_service``, ``grpc_method`` and
  ``grpc_code`` (e.g. ``NOT_FOUND``), the names go-grpc-prometheus made customary. Only registered
  methods are counted (an unknown one is refused before it reaches the interceptor).
- ``db_pool_connections`` (``state`` = ``in_use`` / ``idle``) and ``db_pool_max_connections``:
  the asyncpg pools (absent on SQLite, which has no pool).
- ``http_requests_in_flight``, ``http_requests_waiting`` and ``http_requests_shed_total``: the
  admission control (app/http/admission.py).
- ``token_cache_hits_total`` / ``token_cache_misses_total``: bearer tokens answered from the cache
  of verified tokens (adapters/auth/token_cache.py) or verified again.
- Gauges registered where the metrics are built (app/factories.py) with ``add_gauge(name, help,
  read)``: ``read`` is an async callable awaited at scrape time (bounded), e.g. a table's backlog.

The pool, admission and token-cache figures live in their objects as plain numbers (nothing on the
request path touches a metric for them); ``sample()`` copies them into the metrics, at each scrape
and, with several workers, every ``SAMPLE_SECONDS`` in each worker.

Several Granian workers add up (prometheus_client's multiprocess mode): when
``PROMETHEUS_MULTIPROC_DIR`` names a directory (app/serve.sh and `just dev` prepare an empty one at
each start), every worker writes its values to files there, and a scrape, whichever worker answers
it, reads them all: counters and histograms are summed, the pool and admission gauges summed over
the live workers, a gauge read at scrape time is the latest reading. A worker that stops marks its gauges
dead (``close()``); its counters stay in the totals. Process metrics (CPU, memory) are one
process's, so they are served only without that directory (one worker, or tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

if TYPE_CHECKING:
    from app.http.admission import Admission

log = logging.getLogger(__name__)

GAUGE_READ_TIMEOUT_SECONDS = 2.0
SAMPLE_SECONDS = 1.0  # how fresh the other workers' pool and admission figures are at a scrape
# Labels come from a closed set, so a client cannot grow the registry with made-up methods.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

type PoolStats = Callable[[], tuple[int, int, int] | None]  # (size, idle, max) or None: no pool
type CacheStats = Callable[[], tuple[int, int]]  # (hits, misses) since the start
type GaugeMode = Literal["livesum", "livemax", "livemostrecent"]


class Metrics:
    def __init__(self, multiprocess_dir: str | None = None) -> None:
        """``multiprocess_dir``: PROMETHEUS_MULTIPROC_DIR, which prometheus_client read when it was
        imported (it decides there where values are kept); pass it only when that is set."""
        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created series would double the output
        self.multiprocess_dir = multiprocess_dir
        # The metrics are created in this registry; with a directory, their values go to its files
        # and the scrape reads the files (every worker's) through a registry of its own.
        self._own = CollectorRegistry()
        if multiprocess_dir is None:
            self.registry = self._own
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
        else:
            self.registry = CollectorRegistry()
            MultiProcessCollector(self.registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
        labels = ("method", "route", "status")
        self._requests = Counter(
            "http_requests", "HTTP requests answered, by route template", labels, registry=self._own
        )
        self._latency = Histogram(
            "http_request_duration_seconds",
            "Time from the request's arrival to the end of its response, by route template",
            labels,
            registry=self._own,
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._rpc: tuple[Counter, Histogram] | None = None  # created by the first call: gRPC is optional
        self._rpc_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}
        self._gauges: list[tuple[Gauge, Callable[[], Awaitable[float]]]] = []
        self._samplers: list[Callable[[], None]] = []

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
                        "grpc_server_handled", "gRPC calls answered, by method and code", labels, registry=self._own
                    ),
                    Histogram(
                        "grpc_server_handling_seconds",
                        "Time from a gRPC call's arrival to its status, by method and code",
                        labels,
                        registry=self._own,
                    ),
                )
            counter, histogram = self._rpc
            children = self._rpc_children[key] = (counter.labels(*key), histogram.labels(*key))
        children[0].inc()
        children[1].observe(seconds)

    def _gauge(self, name: str, documentation: str, mode: GaugeMode, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, documentation, labels, registry=self._own, multiprocess_mode=mode)

    def add_pool(self, stats: PoolStats) -> None:
        gauges: list[Gauge] = []  # created at the first reading with a pool: SQLite has none

        def sample() -> None:
            reading = stats()
            if reading is None:
                return
            if not gauges:
                gauges.append(
                    self._gauge("db_pool_connections", "Connections in the database pools", "livesum", ("state",))
                )
                gauges.append(
                    self._gauge("db_pool_max_connections", "Upper bound of the pools (DB_POOL_MAX each)", "livesum")
                )
            size, idle, maximum = reading
            gauges[0].labels("in_use").set(size - idle)
            gauges[0].labels("idle").set(idle)
            gauges[1].set(maximum)

        self._samplers.append(sample)

    def add_admission(self, admission: Admission) -> None:
        in_flight = self._gauge(
            "http_requests_in_flight",
            "Requests inside the app now (ADMISSION_MAX_IN_FLIGHT bounds it per worker)",
            "livesum",
        )
        waiting = self._gauge("http_requests_waiting", "Requests waiting for a slot now", "livesum")
        shed = Counter(
            "http_requests_shed", "Requests refused with 503 because no slot came in time", registry=self._own
        )
        counted = [0]

        def sample() -> None:
            in_flight.set(admission.in_flight)
            waiting.set(admission.waiting)
            shed.inc(admission.shed - counted[0])
            counted[0] = admission.shed

        self._samplers.append(sample)

    def add_token_cache(self, stats: CacheStats) -> None:
        hits = Counter(
            "token_cache_hits", "Bearer tokens answered from the cache of verified tokens", registry=self._own
        )
        misses = Counter("token_cache_misses", "Bearer tokens not in the cache, verified", registry=self._own)
        counted = [0, 0]

        def sample() -> None:
            hit, missed = stats()
            hits.inc(hit - counted[0])
            misses.inc(missed - counted[1])
            counted[:] = [hit, missed]

        self._samplers.append(sample)

    def add_gauge(
        self, name: str, documentation: str, read: Callable[[], Awaitable[float]], mode: GaugeMode = "livemostrecent"
    ) -> None:
        """A gauge whose value ``read()`` returns at each scrape; NaN if it fails or is slow. ``mode``:
        how several workers' readings combine (the default: the latest reading, for a figure any
        worker reads the same, such as a table's backlog)."""
        self._gauges.append((self._gauge(name, documentation, mode), read))

    def sample(self) -> None:
        """Copy this process's pool, admission and token-cache figures into the metrics."""
        for sample in self._samplers:
            try:
                sample()
            except Exception:
                log.exception("a metric could not be sampled")

    async def sample_forever(self, seconds: float = SAMPLE_SECONDS) -> None:
        """With several workers: keep this worker's share fresh for a scrape another one answers."""
        while True:
            self.sample()
            await asyncio.sleep(seconds)

    def close(self) -> None:
        """At the worker's exit: its live gauges leave the sums (its counters stay in the totals)."""
        if self.multiprocess_dir is not None:
            with contextlib.suppress(OSError):
                mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]

    async def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """The exposition (Prometheus text, or OpenMetrics if ``accept`` asks) and its content type."""
        self.sample()
        for gauge, read in self._gauges:
            try:
                async with asyncio.timeout(GAUGE_READ_TIMEOUT_SECONDS):
                    gauge.set(await read())
            except Exception as exc:
                log.warning("metric %s could not be read: %s", gauge._name, type(exc).__name__)
                gauge.set(math.nan)
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type
