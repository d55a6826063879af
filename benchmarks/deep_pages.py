"""What a page of `GET /v1/posts` costs at depth, by offset and by cursor:
`uv run python -m benchmarks.deep_pages [--posts 1000000] [--depths 0,10000,100000,900000]`.

A fresh database (migrated; the posts made by one INSERT ... SELECT over generate_series, three
posts per timestamp so that the tie-break by id is exercised; then VACUUM ANALYZE). For each sort
field and depth: the page statement the listing sends (page and total in one round trip, 20 rows
+ 1), once with OFFSET depth and once after the cursor of the row before it (keyset), each timed
(median) over ``--calls`` calls after a warm-up, with the buffers one call touches (EXPLAIN ANALYZE, BUFFERS).
Unfiltered, as the first page of the API is: a filter's total is a COUNT(*) over its rows, the same
at any depth (docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

import asyncpg

from adapters.db.posts import LISTING
from benchmarks import seed
from benchmarks.bench import DEFAULT_SERVER
from benchmarks.statement_timing import statement_ms
from domain.listing import SortField, SortOrder
from tests.support import databases

LIMIT = 20

# Three posts per second of created_at, updated_at a little later; ids in no time order (md5), as
# random UUIDs are. The row-count triggers fire once for the statement.
_INSERT = """
INSERT INTO post (id, owner_id, content, created_at, updated_at, version)
SELECT md5(i::text)::uuid, $1, 'Post number ' || i || '. ' || repeat('lorem ipsum ', 20),
       timestamptz '2025-01-01' + (i / 3) * interval '1 second',
       timestamptz '2025-01-01' + (i / 3) * interval '1 second' + interval '1 minute', 1
FROM generate_series(1, $2) AS i
"""


async def _timed(connection: asyncpg.Connection, sql: str, args: tuple[Any, ...], calls: int) -> tuple[float, int]:
    """The median milliseconds of a call, and the shared buffers one call touches."""
    median = await statement_ms(connection, sql, *args, calls=calls, warmup=3)
    plan = json.loads(await connection.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", *args))[0]["Plan"]
    return median, plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)


async def measure(server: str, posts: int, depths: list[int], calls: int) -> list[dict[str, Any]]:
    url = await seed.create_database(server)
    try:
        await databases.migrate_database(url)
        connection = await asyncpg.connect(url)
        try:
            owner = seed.bench_user_id()
            await connection.execute(
                "INSERT INTO users (id, username, is_active, created_at, updated_at) "
                "VALUES ($1, 'bench', true, now(), now())",
                owner,
            )
            await connection.execute(_INSERT, owner, posts)
            await connection.execute("VACUUM ANALYZE users, post")
            found = []
            for sort_by in (SortField.updated_at, SortField.created_at):
                by_offset = LISTING.page_statement((), sort_by.value, SortOrder.desc).postgres
                by_cursor = LISTING.page_statement((), sort_by.value, SortOrder.desc, after_cursor=True).postgres
                for depth in depths:
                    # The first page again beside every figure: on a shared machine the load drifts
                    # between figures more than within one, so the ratio is taken against it.
                    row: dict[str, Any] = {"sort_by": sort_by.value, "depth": depth}
                    row["first"] = await _timed(connection, by_offset, (LIMIT + 1, 0), calls)
                    row["offset"] = await _timed(connection, by_offset, (LIMIT + 1, depth), calls)
                    if depth:  # the cursor of the page that ends with the row before this depth
                        before = await connection.fetchrow(by_offset, 1, depth - 1)
                        position = (before[sort_by.value], before["id"], LIMIT + 1)
                        row["cursor"] = await _timed(connection, by_cursor, position, calls)
                    else:
                        row["cursor"] = row["first"]  # the first page has no cursor
                    found.append(row)
                    print(json.dumps(row), flush=True)
            return found
        finally:
            await connection.close()
    finally:
        await seed.drop_database(server, url)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.deep_pages", description=__doc__)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--depths", default="0,10000,100000,900000", help="comma-separated rows skipped")
    parser.add_argument("--calls", type=int, default=50, help="timed calls per figure")
    args = parser.parse_args()
    server = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)
    found = asyncio.run(measure(server, args.posts, [int(d) for d in args.depths.split(",")], args.calls))
    print("\n| sort | depth | first page | offset | buffers | cursor | buffers | cursor ÷ first page |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in found:
        (first_ms, _), (offset_ms, offset_buffers), (cursor_ms, cursor_buffers) = (
            row["first"],
            row["offset"],
            row["cursor"],
        )
        print(
            f"| {row['sort_by']} | {row['depth']:,} | {first_ms:.2f} ms | {offset_ms:.2f} ms | {offset_buffers:,} "
            f"| {cursor_ms:.2f} ms | {cursor_buffers:,} | {cursor_ms / first_ms:.2f}× |"
        )


if __name__ == "__main__":
    main()
