"""What the benchmark sends: one wrk Lua script per scenario, plus the targets the issue sets."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from benchmarks.seed import post_id

LUA_DIR = Path(__file__).parent / "lua"


@dataclass(frozen=True)
class Scenario:
    name: str  # the Lua file's stem
    title: str
    min_ratio: float | None = None  # service req/s ÷ ceiling req/s, at every connection count
    max_p99_ms_at_32: float | None = None

    def lua(self) -> str:
        """The script wrk runs: the shared helpers, then the scenario's request."""
        return (LUA_DIR / "common.lua").read_text() + "\n" + (LUA_DIR / f"{self.name}.lua").read_text()

    def probe(self) -> tuple[str, str, bytes | None]:
        """One request of the scenario (method, path, body), sent before the load to prove it answers 2xx."""
        some_post = str(post_id(1))
        body = json.dumps({"content": f"probe {uuid.uuid4()}"}).encode()
        return {
            "get_post": ("GET", f"/v1/posts/{some_post}", None),
            "list_posts": ("GET", "/v1/posts?limit=20", None),
            "list_comments": ("GET", f"/v1/comments?post_id={some_post}", None),
            "create_post": ("POST", "/v1/posts", body),
            "update_post": ("PATCH", f"/v1/posts/{some_post}", body),
            "mixed": ("GET", f"/v1/posts/{some_post}", None),
        }[self.name]


SCENARIOS: list[Scenario] = [
    Scenario("get_post", "GET /v1/posts/{id}", min_ratio=1.0, max_p99_ms_at_32=25.0),
    Scenario("list_posts", "GET /v1/posts?limit=20", min_ratio=0.8),
    Scenario("list_comments", "GET /v1/comments?post_id=…"),
    Scenario("create_post", "POST /v1/posts", min_ratio=0.6),
    Scenario("update_post", "PATCH /v1/posts/{id}"),
]

SOAK = Scenario("mixed", "soak: 60 % get, 15 % list posts, 15 % list comments, 5 % create, 5 % update")
