"""The benchmark's throwaway PostgreSQL database: created, migrated, seeded with COPY, dropped.

Ids are deterministic (``post_id(i)``, ``comment_id(i, j)``) so that the wrk scripts can pick a
random existing row with ``string.format`` instead of loading a list of ids.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg

from adapters.auth.minting import dev_subject
from tests.support import databases

BENCH_USER = "bench"
POSTS = 10_000
COMMENTS_PER_POST = 5  # 50,000 comments

# Lua builds the same strings: "00000000-0000-4000-8000-" .. string.format("%012d", i)
POST_ID_PREFIX = "00000000-0000-4000-8000-"
COMMENT_ID_PREFIX = "00000000-0000-4000-9000-"


def post_id(i: int) -> uuid.UUID:
    """The id of post number ``i`` (1-based)."""
    return uuid.UUID(f"{POST_ID_PREFIX}{i:012d}")


def comment_id(post: int, j: int) -> uuid.UUID:
    return uuid.UUID(f"{COMMENT_ID_PREFIX}{post * COMMENTS_PER_POST + j:012d}")


def bench_user_id() -> uuid.UUID:
    """The user the benchmark's token names (``just token bench``)."""
    return uuid.UUID(dev_subject(BENCH_USER))


async def create_database(server_url: str) -> str:
    return await databases.create_postgres_database("bench_blog", server_url)


async def drop_database(server_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith("bench_blog_"):
        raise ValueError(f"refusing to drop {name!r}: not a benchmark database")
    await databases.drop_postgres_database(url, server_url)


async def seed(url: str, *, posts: int = POSTS, comments_per_post: int = COMMENTS_PER_POST) -> dict[str, int]:
    """One user, ``posts`` posts, ``posts * comments_per_post`` comments; timestamps spread over a year."""
    owner = bench_user_id()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    connection = await asyncpg.connect(url, timeout=5)
    try:
        await connection.copy_records_to_table(
            "users",
            records=[(owner, BENCH_USER, "Bench", "bench@example.test", True, start, start, None)],
            columns=["id", "username", "full_name", "email", "is_active", "created_at", "updated_at", "synced_at_ms"],
        )
        step = timedelta(minutes=50)
        post_rows = []
        comment_rows = []
        for i in range(1, posts + 1):
            created = start + step * i
            post_rows.append((post_id(i), owner, f"Post number {i}. " + "lorem ipsum " * 20, created, created, 1))
            for j in range(comments_per_post):
                at = created + timedelta(seconds=j + 1)
                comment_rows.append((comment_id(i, j), post_id(i), owner, f"Comment {j} on post {i}", at, at, 1))
        columns = ["id", "owner_id", "content", "created_at", "updated_at", "version"]
        await connection.copy_records_to_table("post", records=post_rows, columns=columns)
        await connection.copy_records_to_table("comment", records=comment_rows, columns=["id", "post_id", *columns[1:]])
        # Fresh statistics and a visibility map, as a long-running database would have.
        await connection.execute("VACUUM ANALYZE users, post, comment")
    finally:
        await connection.close()
    return {"users": 1, "posts": len(post_rows), "comments": len(comment_rows)}
