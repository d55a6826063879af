"""Database faults: stopped, a connection killed mid unit of work, a statement cut by its timeout,
a saturated pool. The app must answer 503 problem+json (never hang, never 500), leave nothing
half-written, and recover by itself.

Every request is bounded by NO_HANG_SECONDS: that is a "does it answer at all" guard, far above the
configured timeouts, not a timing assertion.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx

from app.main import create_app
from tests.support.asgi_client import concurrent_client
from tests.support.pg_cluster import PgCluster
from tests.support.problems import assert_problem, assert_unavailable
from tests.support.reliability import NO_HANG_SECONDS, STATS
from tests.support.tokens import TestKeys

# Small enough that the faults are quick to provoke; the defaults are 2000 / 5000 ms.
FAULT_TIMEOUTS = {"DB_ACQUIRE_TIMEOUT_MS": "1000", "DB_STATEMENT_TIMEOUT_MS": "1500"}


async def _fresh_database(cluster: PgCluster) -> str:
    return await cluster.create_database(f"fault_{uuid.uuid4().hex[:10]}")


def _serving(container: Any) -> Any:
    # Requests must be in flight while the test acts on the database: not AsyncTestClient.
    return concurrent_client(create_app(container))


async def _answer(request: Awaitable[Any]) -> Any:
    async with asyncio.timeout(NO_HANG_SECONDS):
        return await request


async def _wait_for(probe: Callable[[], Awaitable[Any]]) -> Any:
    """Poll until ``probe`` returns something truthy (bounded: a hang fails the test)."""
    async with asyncio.timeout(NO_HANG_SECONDS):
        while not (found := await probe()):  # noqa: ASYNC110 - the state polled is in another process
            await asyncio.sleep(0.05)
    return found


async def _every_route(client: httpx.AsyncClient, keys: TestKeys, post_id: str, comment_id: str) -> list[Any]:
    headers = keys.headers("alice")
    requests = [
        client.get("/v1/users/me", headers=headers),
        client.get(f"/v1/users/{keys.user_id('alice')}", headers=headers),
        client.patch("/v1/service-context", json={"maintenance": True}, headers=keys.headers("root", ("admin",))),
    ]
    # region: blog
    requests += [
        client.post("/v1/posts", json={"content": "new"}, headers=headers),
        client.get("/v1/posts", headers=headers),
        client.get(f"/v1/posts/{post_id}", headers=headers),
        client.patch(f"/v1/posts/{post_id}", json={"content": "changed"}, headers=headers),
        client.delete(f"/v1/posts/{post_id}", headers=headers),
        client.post("/v1/comments", json={"post_id": post_id, "content": "new"}, headers=headers),
        client.get("/v1/comments", params={"post_id": post_id}, headers=headers),
        client.get(f"/v1/comments/{comment_id}", headers=headers),
        client.patch(f"/v1/comments/{comment_id}", json={"content": "changed"}, headers=headers),
        client.delete(f"/v1/comments/{comment_id}", headers=headers),
    ]
    # endregion
    return [await _answer(request) for request in requests]


async def test_database_stopped_answers_503_everywhere_and_the_app_recovers_without_restart(
    pg_cluster: PgCluster, container_for: Any, keys: TestKeys
) -> None:
    url = await _fresh_database(pg_cluster)
    async with _serving(container_for(url, **FAULT_TIMEOUTS)) as client:
        headers = keys.headers("alice")
        assert (await client.get("/v1/users/me", headers=headers)).status_code == 200
        post_id = comment_id = ""
        # region: blog
        post = (await client.post("/v1/posts", json={"content": "before"}, headers=headers)).json()
        comment = (
            await client.post("/v1/comments", json={"post_id": post["id"], "content": "c"}, headers=headers)
        ).json()
        post_id, comment_id = post["id"], comment["id"]
        # endregion

        pg_cluster.stop("fast")
        try:
            STATS["database faults tried"] += 1
            for response in await _every_route(client, keys, post_id, comment_id):
                assert_unavailable(response)
            ready = await _answer(client.get("/health/ready"))
            assert_problem(ready, 503)
            assert (await _answer(client.get("/health/live"))).status_code == 200
        finally:
            pg_cluster.start()

        async def ready_again() -> bool:
            return (await client.get("/health/ready")).status_code == 200

        await _wait_for(ready_again)
        assert (await _answer(client.get("/v1/users/me", headers=headers))).status_code == 200
        context = (await _answer(client.get("/v1/service-context", headers=headers))).json()
        assert context["maintenance"] is False, "the refused switch changed nothing"
        # region: blog
        fetched = await _answer(client.get(f"/v1/posts/{post['id']}", headers=headers))
        assert (fetched.status_code, fetched.json()["content"], fetched.json()["version"]) == (200, "before", 1)
        assert (await _answer(client.post("/v1/posts", json={"content": "after"}, headers=headers))).status_code == 201
        comments = (await client.get("/v1/comments", params={"post_id": post["id"]}, headers=headers)).json()
        assert [c["id"] for c in comments["items"]] == [comment["id"]]
        # endregion


async def _app_backend_waiting(admin: asyncpg.Connection) -> int | None:
    pid: int | None = await admin.fetchval(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'blog-service' AND wait_event_type = 'Lock'"
    )
    return pid


# region: blog
HOLD_LOCK = 7_007
_HOLD_TRIGGER = """
CREATE FUNCTION hold_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared({lock}); RETURN NULL; END $$;
CREATE TRIGGER hold_write AFTER INSERT OR UPDATE ON post FOR EACH ROW EXECUTE FUNCTION hold_write();
"""


async def test_connection_killed_mid_unit_of_work_fails_cleanly_and_leaves_nothing_half_written(
    pg_cluster: PgCluster, container_for: Any, keys: TestKeys
) -> None:
    url = await _fresh_database(pg_cluster)
    # A long statement timeout: the request must fail because its connection dies, not by timing out.
    container = container_for(url, DB_STATEMENT_TIMEOUT_MS="60000")
    admin = await asyncpg.connect(url, timeout=10)
    try:
        async with _serving(container) as client:
            owner = keys.headers("alice")
            post = (await client.post("/v1/posts", json={"content": "original"}, headers=owner)).json()
            # From now on, a write to `post` stops after the row is written, inside the app's
            # transaction, until the test lets go of the lock: that is where the connection dies.
            await admin.execute(_HOLD_TRIGGER.format(lock=HOLD_LOCK))
            await admin.execute("SELECT pg_advisory_lock($1)", HOLD_LOCK)
            newcomer = keys.headers("carol")  # her user row is written in the same unit of work
            writes = {
                "create": lambda: client.post("/v1/posts", json={"content": "doomed"}, headers=newcomer),
                "update": lambda: client.patch(
                    f"/v1/posts/{post['id']}", json={"content": "doomed"}, headers={**owner, "If-Match": '"1"'}
                ),
            }
            for write in writes.values():
                STATS["database faults tried"] += 1
                pending = asyncio.ensure_future(_answer(write()))
                pid = await _wait_for(lambda: _app_backend_waiting(admin))
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
                assert_unavailable(await pending)

            assert await admin.fetchval("SELECT count(*) FROM post") == 1
            assert await admin.fetchval("SELECT count(*) FROM users WHERE username = 'carol'") == 0
            row = await admin.fetchrow("SELECT content, version FROM post WHERE id = $1", uuid.UUID(post["id"]))
            assert (row["content"], row["version"]) == ("original", 1)

            await admin.execute("SELECT pg_advisory_unlock($1)", HOLD_LOCK)
            await admin.execute("DROP TRIGGER hold_write ON post")
            # The pool replaced the dead connections: the next requests succeed.
            created = await _answer(client.post("/v1/posts", json={"content": "alive"}, headers=newcomer))
            assert created.status_code == 201, created.text
            updated = await _answer(
                client.patch(f"/v1/posts/{post['id']}", json={"content": "new"}, headers={**owner, "If-Match": '"1"'})
            )
            assert (updated.status_code, updated.json()["version"]) == (200, 2)
    finally:
        await admin.close()


# endregion


async def test_statement_cut_by_the_statement_timeout_answers_503_and_changes_nothing(
    pg_cluster: PgCluster, container_for: Any, keys: TestKeys
) -> None:
    url = await _fresh_database(pg_cluster)
    admin = await asyncpg.connect(url, timeout=10)
    try:
        async with _serving(container_for(url, DB_STATEMENT_TIMEOUT_MS="300")) as client:
            root = keys.headers("root", ("admin",))
            switch = "/v1/service-context"
            assert (await client.patch(switch, json={"maintenance": False}, headers=root)).status_code == 200
            STATS["database faults tried"] += 1
            async with admin.transaction():  # another writer holds the row: the switch's write waits
                await admin.execute("SELECT 1 FROM service_context WHERE id = 1 FOR UPDATE")
                assert_unavailable(await _answer(client.patch(switch, json={"maintenance": True}, headers=root)))
            assert await admin.fetchval("SELECT maintenance FROM service_context WHERE id = 1") is False
            after = await _answer(client.patch(switch, json={"maintenance": True}, headers=root))
            assert (after.status_code, after.json()["maintenance"]) == (200, True)
    finally:
        await admin.close()


async def test_saturated_pool_answers_503_after_the_acquire_timeout(
    pg_cluster: PgCluster, container_for: Any, keys: TestKeys
) -> None:
    url = await _fresh_database(pg_cluster)
    container = container_for(
        url, DB_POOL_MIN="1", DB_POOL_MAX="1", DB_ACQUIRE_TIMEOUT_MS="200", DB_STATEMENT_TIMEOUT_MS="60000"
    )
    admin = await asyncpg.connect(url, timeout=10)
    try:
        async with _serving(container) as client:
            root = keys.headers("root", ("admin",))
            switch = "/v1/service-context"
            assert (await client.patch(switch, json={"maintenance": False}, headers=root)).status_code == 200
            STATS["database faults tried"] += 1
            async with admin.transaction():
                await admin.execute("SELECT 1 FROM service_context WHERE id = 1 FOR UPDATE")
                # The switch takes the pool's only connection and waits for the row.
                update = asyncio.ensure_future(_answer(client.patch(switch, json={"maintenance": True}, headers=root)))
                await _wait_for(lambda: _app_backend_waiting(admin))
                assert_unavailable(await _answer(client.get("/v1/users/me", headers=root)))
            finished = await update
            assert (finished.status_code, finished.json()["maintenance"]) == (200, True)
    finally:
        await admin.close()


def _sqlite_connection_threads() -> int:
    # aiosqlite runs each connection in a thread of its own: a connection never closed is a thread left.
    return sum("_connection_worker_thread" in thread.name for thread in threading.enumerate())


async def test_sqlite_locked_by_another_writer_answers_503_after_its_busy_timeout_and_leaks_nothing(
    tmp_path: Any, container_for: Any, keys: TestKeys
) -> None:
    path = tmp_path / "locked.sqlite3"
    async with _serving(container_for(f"sqlite:///{path}", DB_STATEMENT_TIMEOUT_MS="300")) as client:
        root = keys.headers("root", ("admin",))
        switch = "/v1/service-context"
        assert (await client.patch(switch, json={"maintenance": False}, headers=root)).status_code == 200
        threads = _sqlite_connection_threads()
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            for _ in range(3):
                STATS["database faults tried"] += 1
                assert_unavailable(await _answer(client.patch(switch, json={"maintenance": True}, headers=root)))
        finally:
            other.execute("ROLLBACK")
            other.close()
        # The connections that could not begin were closed (they used to keep a thread each, forever).
        assert _sqlite_connection_threads() <= threads
        assert (await client.get(switch, headers=root)).json()["maintenance"] is False
        assert (await client.patch(switch, json={"maintenance": True}, headers=root)).status_code == 200
