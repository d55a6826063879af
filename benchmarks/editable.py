"""What `GET /v1/posts?editable=true` and the share check cost as the tables grow:
`uv run python -m benchmarks.editable [--posts 10000,100000]`.

For each size: a fresh database (migrated, seeded by COPY, then VACUUM ANALYZE) where 1,000 users
own the posts round-robin, every post is shared with two users and one of 500 groups, and every
group has 20 members (users 0–899: each is in about 11 groups). Two callers: one in no group (owns
1/1,000 of the posts and is a direct editor of 2/1,000), and one in 11 groups, whose shares bring
it 2% of the posts; what either may edit grows with the table. Measured (the median of 200 calls
each, after 20 warm-up calls; benchmarks/statement_timing.py): the editable page (limit 20) with its total, as the app sends it; the
share check (adapters/db/sharing.py: IS_EDITOR) of a post the caller may not edit (the slowest
answer: every probe misses); and the unfiltered page for comparison. Also the plan and the buffers
of the editable page (EXPLAIN (ANALYZE, BUFFERS)).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from adapters.db.posts import EDITABLE_BY, LISTING
from adapters.db.sharing import IS_EDITOR
from benchmarks import seed
from benchmarks.bench import DEFAULT_SERVER
from benchmarks.statement_timing import statement_ms
from domain.listing import SortField, SortOrder
from tests.support import databases

CALLS = 200
USERS = 1_000
GROUPS = 500
MEMBERS_PER_GROUP = 20
GROUPED_USERS = 900  # users 900..999 are in no group


def _id(kind: int, i: int) -> uuid.UUID:
    return uuid.UUID(int=(kind << 64) | i)


async def _seed(url: str, posts: int) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    users = [_id(1, i) for i in range(USERS)]
    groups = [_id(2, i) for i in range(GROUPS)]
    connection = await asyncpg.connect(url, timeout=5)
    try:
        await connection.copy_records_to_table(
            "users",
            records=[(u, f"user{i}", None, None, True, start, start, None) for i, u in enumerate(users)],
            columns=["id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms"],
        )
        post_rows = []
        editor_rows = []
        group_share_rows = []
        for i in range(posts):
            at = start + timedelta(minutes=i)
            post_rows.append((_id(3, i), users[i % USERS], f"post {i}", at, at, 1))
            editor_rows += [(_id(3, i), users[(i * 7 + 1) % USERS]), (_id(3, i), users[(i * 13 + 2) % USERS])]
            group_share_rows.append((_id(3, i), groups[(i * 11) % GROUPS]))
        await connection.copy_records_to_table(
            "post", records=post_rows, columns=["id", "owner_id", "content", "created_at", "updated_at", "version"]
        )
        await connection.copy_records_to_table(
            "user_group",
            records=[(g, f"group{i}", f"/group{i}", 1, False) for i, g in enumerate(groups)],
            columns=["id", "name", "path", "synced_at_ms", "deleted"],
        )
        await connection.copy_records_to_table(
            "group_membership",
            records=[
                (g, users[(i * MEMBERS_PER_GROUP + k * 37) % GROUPED_USERS], True, 1)
                for i, g in enumerate(groups)
                for k in range(MEMBERS_PER_GROUP)
            ],
            columns=["group_id", "user_id", "active", "synced_at_ms"],
        )
        await connection.copy_records_to_table(
            "post_editor", records=sorted(set(editor_rows)), columns=["post_id", "user_id"]
        )
        await connection.copy_records_to_table(
            "post_editor_group", records=group_share_rows, columns=["post_id", "group_id"]
        )
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def measure(server: str, posts: int) -> dict[str, object]:
    url = await seed.create_database(server)
    try:
        await databases.migrate_database(url)
        await _seed(url, posts)
        caller, grouped = _id(1, 950), _id(1, 5)
        editable = LISTING.page_statement(("editable_by",), SortField.updated_at, SortOrder.desc).postgres
        unfiltered = LISTING.page_statement((), SortField.updated_at, SortOrder.desc).postgres
        connection = await asyncpg.connect(url)
        try:
            page = await connection.fetch(editable, caller, 20, 0)
            grouped_page = await connection.fetch(editable, grouped, 20, 0)
            # a post the caller may not edit: owned by another, shared with neither it nor its groups
            not_editable = f'SELECT "id" FROM "post" WHERE NOT {EDITABLE_BY[0].format("$1")} LIMIT 1'  # noqa: S608
            refused = await connection.fetchval(not_editable, caller)
            plan = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {editable}", grouped, 20, 0)
            return {
                "editable total": page[0][-1] if page else 0,
                "editable page": await statement_ms(connection, editable, caller, 20, 0, calls=CALLS),
                "grouped total": grouped_page[0][-1] if grouped_page else 0,
                "grouped page": await statement_ms(connection, editable, grouped, 20, 0, calls=CALLS),
                "share check": await statement_ms(connection, IS_EDITOR.postgres, refused, caller, calls=CALLS),
                "unfiltered page": await statement_ms(connection, unfiltered, 20, 0, calls=CALLS),
                "plan": "\n".join(row[0] for row in plan),
            }
        finally:
            await connection.close()
    finally:
        await seed.drop_database(server, url)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.editable", description=__doc__)
    parser.add_argument("--posts", default="10000,100000", help="comma-separated table sizes")
    parser.add_argument("--plan", action="store_true", help="print the editable page's plan too")
    args = parser.parse_args()
    server = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)
    print(
        "| posts | no group: editable | its page + total | in 11 groups: editable | its page + total "
        "| share check (a refusal) | unfiltered page |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for posts in (int(n) for n in args.posts.split(",")):
        found = asyncio.run(measure(server, posts))
        print(
            f"| {posts:,} | {found['editable total']:,} | {found['editable page']:.2f} ms | "
            f"{found['grouped total']:,} | {found['grouped page']:.2f} ms | "
            f"{found['share check']:.3f} ms | {found['unfiltered page']:.2f} ms |",
            flush=True,
        )
        if args.plan:
            print(found["plan"])


if __name__ == "__main__":
    main()
