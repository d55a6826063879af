"""What an unfiltered listing's page and total cost as the table grows:
`uv run python -m benchmarks.totals [--posts 10000,100000,1000000]`.

For each size: a fresh database (seeded by COPY, one comment per post, then VACUUM ANALYZE), the
first page of `GET /v1/posts` with its total (the median of 200 calls), once with the `COUNT(*)` subquery that
SQLite still uses and once with PostgreSQL's sum of row-count deltas (migration "row counts").
"""

from __future__ import annotations

import argparse
import asyncio
import os

import asyncpg

from adapters.db.posts import LISTING
from adapters.db.sql import Listing
from benchmarks import seed
from benchmarks.bench import DEFAULT_SERVER
from benchmarks.statement_timing import statement_ms
from domain.listing import SortField, SortOrder
from tests.support import databases

CALLS = 200


async def measure(server: str, posts: int) -> dict[str, float]:
    url = await seed.create_database(server)
    try:
        await databases.migrate_database(url)
        await seed.seed(url, posts=posts, comments_per_post=1)
        counting = Listing(LISTING.table, LISTING.columns, filters=LISTING.filters, sort_columns=LISTING.sort_columns)
        variants = {
            "COUNT(*)": counting.page_statement((), SortField.updated_at, SortOrder.desc).postgres,  # as SQLite counts
            "sum of deltas": LISTING.page_statement((), SortField.updated_at, SortOrder.desc).postgres,
        }
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("VACUUM ANALYZE")
            return {name: await statement_ms(connection, sql, 20, 0, calls=CALLS) for name, sql in variants.items()}
        finally:
            await connection.close()
    finally:
        await seed.drop_database(server, url)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.totals", description=__doc__)
    parser.add_argument("--posts", default="10000,100000,1000000", help="comma-separated table sizes")
    args = parser.parse_args()
    server = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)
    print("| posts | COUNT(*) subquery | sum of deltas |\n| ---: | ---: | ---: |")
    for posts in (int(n) for n in args.posts.split(",")):
        found = asyncio.run(measure(server, posts))
        print(f"| {posts:,} | {found['COUNT(*)']:.2f} ms | {found['sum of deltas']:.2f} ms |", flush=True)


if __name__ == "__main__":
    main()
