"""The benchmark's gRPC load generator (benchmarks/grpc_load.py) against the app's gRPC server, on a
small seed: every call answered, the result in the shape the report reads."""

from __future__ import annotations

import pytest

from app.settings import Settings
from benchmarks import seed
from benchmarks.bench import Run
from benchmarks.grpc_load import load
from tests.grpc.conftest import grpc_settings, served


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_grpc_load_gets_seeded_posts_and_reports_a_run(engine, db_url, make_container, keys):
    await seed.seed(db_url, posts=25, comments_per_post=0)
    container = make_container(**grpc_settings())
    async with served(container, keys):
        port = container[Settings].grpc_port
        result = await load(f"127.0.0.1:{port}", keys.mint(seed.BENCH_USER), 4, 2, 0.5, 25)

    run = Run(**result)
    assert run.requests > 0
    assert run.errors == 0, run.statuses
    assert 0 < run.p50_us <= run.p99_us
    assert run.client_cpu > 0
