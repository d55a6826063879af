"""/metrics with two Granian workers (`just serve`, WEB_CONCURRENCY=2): the figures of both, whichever
worker answers the scrape (prometheus_client's multiprocess mode, app/metrics.py, prepared by
app/serve.sh).

N requests on fresh connections (the kernel spreads them over the two workers); then every scrape,
on a fresh connection too, reports exactly N; both workers wrote their share; the pools' bounds add
up (PostgreSQL); a worker that stops takes its gauges out of the sums and leaves its counts. A server takes seconds to start, hence ``slow``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.servers import Server

pytestmark = pytest.mark.slow

REQUESTS = 120
SCRAPES = 6


def scrape(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


async def test_every_scrape_counts_the_requests_of_both_workers(
    database: str, tmp_path: Path, servers: list[Server]
) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"left over from a previous run")  # serve.sh empties it
    server = Server(
        tmp_path, database, WEB_CONCURRENCY="2", METRICS_ENABLED="true", PROMETHEUS_MULTIPROC_DIR=str(directory)
    ).start()
    servers.append(server)
    await asyncio.to_thread(server.wait_ready)
    workers = server.worker_pids()
    assert len(workers) == 2, workers

    async def live() -> None:
        async with httpx.AsyncClient(timeout=10) as client:  # a connection of its own
            assert (await client.get(f"{server.url}/health/live")).status_code == 200

    for _ in range(REQUESTS // 10):
        await asyncio.gather(*(live() for _ in range(10)))

    writers = {int(path.stem.rsplit("_", 1)[1]) for path in directory.glob("counter_*.db")}
    assert writers == set(workers), "each worker served some of the requests and wrote its counts"

    for _ in range(SCRAPES):
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{server.url}/metrics")
        assert response.status_code == 200
        found = scrape(response.text)
        counted = sum(value for labels, value in found["http_requests_total"] if labels["route"] == "/health/live")
        assert counted == REQUESTS
        assert "process_resident_memory_bytes" not in found, "one process's figures would pass for the service's"
        if database.startswith("postgresql"):
            (bound,) = found["db_pool_max_connections"]
            assert bound[1] == 2 * 20, "DB_POOL_MAX of each live worker"

    assert list(directory.glob("gauge_livesum_*.db")), "the live workers' gauges"
    server.terminate()
    assert server.process is not None
    server.process.wait(timeout=30)
    assert not list(directory.glob("gauge_livesum_*.db")), "a stopped worker leaves the sums"
    assert {int(path.stem.rsplit("_", 1)[1]) for path in directory.glob("counter_*.db")} == set(workers), (
        "its counts stay in the totals"
    )
