"""The benchmark's parts on a small scale (the benchmark itself, `just bench`, takes minutes): the
seed, the ceiling app answering every scenario, the scenario scripts, the report and the profile
summary. The gRPC load generator against the app: tests/grpc/test_grpc_bench_client.py."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from adapters.auth.keys import DevKeys
from adapters.auth.minting import mint_dev_token
from benchmarks import seed
from benchmarks.bench import GrpcRow, Row, Run, Soak, report
from benchmarks.ceiling import Ceiling
from benchmarks.profile import summarize
from benchmarks.scenarios import SCENARIOS, SOAK


def test_every_scenario_script_has_the_shared_helpers_and_a_request():
    for scenario in [*SCENARIOS, SOAK]:
        lua = scenario.lua()
        assert "function done(summary, latency, requests)" in lua
        assert "function request()" in lua or "wrk.path" in lua, scenario.name
        method, path, _ = scenario.probe()
        assert method in {"GET", "POST", "PATCH"}
        assert path.startswith("/v1/")


def test_the_lua_ids_are_the_seeded_ids():
    lua = SCENARIOS[0].lua()
    assert f'string.format("{seed.POST_ID_PREFIX}%012d", math.random(1, posts))' in lua
    assert seed.post_id(7) == uuid.UUID(f"{seed.POST_ID_PREFIX}{7:012d}")


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_the_ceiling_serves_every_scenario_on_a_small_seed(engine, db_url, tmp_path):
    counts = await seed.seed(db_url, posts=25, comments_per_post=2)
    assert counts == {"users": 1, "posts": 25, "comments": 50}
    token = mint_dev_token(DevKeys(tmp_path), seed.BENCH_USER, [])
    ceiling = Ceiling()
    await ceiling.startup(db_url, tmp_path)
    try:
        auth = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=ceiling)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://ceiling") as client:
            some = str(seed.post_id(3))
            got = await client.get(f"/v1/posts/{some}", headers=auth)
            assert got.status_code == 200
            assert got.json()["id"] == some
            assert got.headers["etag"] == '"1"'

            page = (await client.get("/v1/posts?limit=20", headers=auth)).json()
            assert (len(page["items"]), page["total"]) == (20, 25)
            assert page["next_cursor"]  # the service's response, cursor included

            comments = (await client.get(f"/v1/comments?post_id={some}", headers=auth)).json()
            assert (comments["total"], comments["next_cursor"]) == (2, None)
            assert {c["post_id"] for c in comments["items"]} == {some}

            created = await client.post("/v1/posts", headers=auth, json={"content": " new "})
            assert created.status_code == 201
            assert created.json()["content"] == "new"

            patched = await client.patch(f"/v1/posts/{some}", headers=auth, json={"content": "edited"})
            assert patched.status_code == 200
            assert (patched.json()["version"], patched.headers["etag"]) == (2, '"2"')

            assert (await client.get(f"/v1/posts/{some}")).status_code == 401
            forged = {"Authorization": f"Bearer {token[:-4]}AAAA"}
            assert (await client.get(f"/v1/posts/{some}", headers=forged)).status_code == 401
    finally:
        await ceiling.shutdown()


def _run(rps: int, p99_ms: float = 10, errors: int = 0, rss: float = 50) -> Run:
    return Run(rps * 10, 10_000_000, 1_000, int(p99_ms * 1000), errors, 0, 0, 0, 0, rss)


def test_the_report_states_ratios_and_which_targets_are_missed():
    get, listing = SCENARIOS[0], SCENARIOS[1]
    rows = [
        Row(get, 32, _run(1200, p99_ms=20), _run(1000)),
        Row(get, 128, _run(900), _run(1000)),
        Row(listing, 32, _run(500, errors=3), _run(500)),
    ]
    soak = Soak(60, _run(800), [60.0, 61.0, 62.0, 64.0])
    table = report(rows, soak, {"when": "now", "machine": "test box", "commit": "abc"})
    lines = table.splitlines()
    assert "| 1.20× | ✓ ≥ 1.0×, p99 ≤ 25 ms |" in lines[8]
    assert "✗ ratio < 1.0" in lines[9]
    assert "✗ errors" in lines[10]
    assert "growth +3.2% ✓ flat" in table


def test_the_profile_summary_counts_self_and_total_time_below_the_event_loop():
    collapsed = "\n".join(
        [
            "main (a.py:1);Handle._run (asyncio/events.py:89);handler (/x/app/h.py:3);query (db.py:9) 30",
            "main (a.py:1);Handle._run (asyncio/events.py:89);handler (/x/app/h.py:4) 10",
            "Thread.run (threading.py:1);Condition.wait (threading.py:359) 500",
        ]
    )
    samples, own, total = summarize(collapsed)
    assert samples == 40  # the idle thread is left out
    assert own[0] == ("query (db.py)", 0.75)
    assert dict(total) == {"handler (app/h.py)": 1.0}  # our code only; cut below the dispatch


def test_wrk_result_lines_parse_into_runs():
    line = {"requests": 100, "duration_us": 2_000_000, "p50_us": 1, "p99_us": 2}
    line |= {"non2xx": 1, "connect": 0, "read": 2, "write": 0, "timeout": 0}
    run = Run(**json.loads(json.dumps(line)))
    assert (run.rps, run.errors) == (50.0, 3)


def test_slices_merge_into_one_run_keeping_the_worst_p99_and_rss():
    first = Run(100, 5_000_000, 1_000, 9_000, 1, 0, 0, 0, 0, 80.0)
    second = Run(300, 5_000_000, 2_000, 4_000, 0, 0, 1, 0, 0, 90.0)
    merged = Run.merged([first, second])
    assert (merged.rps, merged.p50_us, merged.p99_us) == (40.0, 1_750, 9_000)
    assert (merged.errors, merged.rss_mib) == (2, 90.0)


def test_errors_say_what_they_were():
    run = Run(10, 1, 1, 1, 3, 0, 0, 0, 1, statuses="503 503 404")
    assert run.describe_errors() == "4 (503×2, 404×1, timeout×1)"
    assert _run(1).describe_errors() == "0"


def test_the_report_puts_grpc_beside_http_get():
    grpc = Run(30_000, 10_000_000, 900, 4_000, 0, 0, 0, 0, 0, 70.0, client_cpu=0.65, server_cpu_s=9.0)
    http = Run(20_000, 10_000_000, 1_000, 10_000, 0, 0, 0, 0, 0, 50.0, server_cpu_s=8.0)
    rows = [Row(SCENARIOS[0], 32, _run(1200), _run(1000))]
    grpc_rows = [GrpcRow(32, grpc, http, _run(2100))]
    table = report(rows, None, {"when": "now", "machine": "test box", "commit": "abc"}, grpc_rows)
    line = next(line for line in table.splitlines() if line.startswith("| same worker |"))
    assert line == (
        "| same worker | 32 | 3,000 | 0.9 | 4.0 | 0 | 0.65 | 2,000 | 1.0 | 10.0 | 0 | 1.50× | 300 | 400 | 70 | 2,100 |"
    )
