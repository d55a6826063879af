"""The bare ceiling: a raw ASGI app doing by hand what the service does for the benchmarked routes.

Per request it verifies the bearer token from scratch with joserfc (the same RS256 JWT, the
same public key loaded once at start-up, the same claim checks), runs the same SQL as the
service (the repositories' own statements) through one asyncpg pool with asyncpg's defaults,
and encodes the service's response structs with msgspec. No framework, no DI, no ORM, no cache
of verified tokens. The benchmark reports the service's numbers as a ratio of this app's.

Served by Granian exactly like the service (`sh app/serve.sh benchmarks.ceiling:app`);
reads DATABASE_URL, VAR_DIR (the dev key pair that `just token` signs with), DB_POOL_MIN/MAX.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
import msgspec
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from joserfc.jwt import JWTClaimsRegistry

from adapters.auth.keys import DEV_ISSUER
from adapters.db import comments, posts, users
from app.http.schemas import CommentOut, CommentPage, ContentIn, PostOut, PostPage
from domain.comments import CommentQuery
from domain.listing import ListQuery, SortField, SortOrder, cursor_after
from domain.model import CONTENT_MAX_LENGTH


class HttpError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail


_encode = msgspec.json.Encoder().encode
_decode_content = msgspec.json.Decoder(ContentIn).decode
_JSON = (b"content-type", b"application/json")
# The service's own statements (adapters/db/posts.py, ...), in their asyncpg form: the same SQL.
_POST_PAGE = posts.LISTING.page_statement((), SortField.updated_at, SortOrder.desc).postgres
_POST_COUNT = posts.LISTING.count_statement(()).postgres
_COMMENT_PAGE = comments.LISTING.page_statement(("post_id",), SortField.updated_at, SortOrder.desc).postgres
_COMMENT_COUNT = comments.LISTING.count_statement(("post_id",)).postgres


def load_public_keys(var_dir: Path) -> KeySet:
    private = RSAKey.import_key(json.loads((var_dir / "dev-jwt-key.json").read_text()))
    return KeySet([RSAKey.import_key(private.as_dict(private=False))])


class Ceiling:
    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None
        self.keys: KeySet | None = None
        self.claims = JWTClaimsRegistry(
            leeway=60, iss={"essential": True, "value": DEV_ISSUER}, sub={"essential": True}, exp={"essential": True}
        )

    async def startup(self, database_url: str | None = None, var_dir: Path | None = None) -> None:
        self.keys = load_public_keys(var_dir or Path(os.environ.get("VAR_DIR", "./var")))
        self.pool = await asyncpg.create_pool(
            database_url or os.environ["DATABASE_URL"],
            min_size=int(os.environ.get("DB_POOL_MIN", "2")),
            max_size=int(os.environ.get("DB_POOL_MAX", "20")),
        )

    async def shutdown(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    # -- the work, by hand ------------------------------------------------------------------
    def caller(self, scope: dict[str, Any]) -> uuid.UUID:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token:
                    break
        else:
            raise HttpError(401, "missing bearer token")
        try:
            decoded = jwt.decode(token.strip(), self.keys, algorithms=["RS256"])  # type: ignore[arg-type]
            self.claims.validate(decoded.claims)
        except (JoseError, ValueError):
            raise HttpError(401, "invalid token") from None
        if decoded.claims.get("typ", "Bearer") != "Bearer":
            raise HttpError(401, "not an access token")
        return uuid.UUID(decoded.claims["sub"])

    async def get_post(self, post_id: uuid.UUID) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        assert self.pool is not None
        row = await self.pool.fetchrow(posts.GET.postgres, post_id)
        if row is None:
            raise HttpError(404, "no such post")
        return 200, _encode(PostOut(*row)), [(b"etag", b'"%d"' % row["version"])]

    async def list_posts(self, query: dict[str, str]) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        assert self.pool is not None
        limit, offset = int(query.get("limit", 20)), int(query.get("offset", 0))
        rows = await self.pool.fetch(_POST_PAGE, limit + 1, offset)  # one more: is there a next page?
        total = rows[0][-1] if rows else 0 if offset == 0 else await self.pool.fetchval(_POST_COUNT)
        after = None
        if len(rows) > limit:
            after = cursor_after("post", ListQuery(limit=limit), rows[limit - 1]["updated_at"], rows[limit - 1]["id"])
        items = [PostOut(*row[:-1]) for row in rows[:limit]]
        return 200, _encode(PostPage(items, total, limit, offset, after)), []

    async def list_comments(self, query: dict[str, str]) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        assert self.pool is not None
        limit, offset = int(query.get("limit", 20)), int(query.get("offset", 0))
        post_id = uuid.UUID(query["post_id"])
        rows = await self.pool.fetch(_COMMENT_PAGE, post_id, limit + 1, offset)
        if rows or offset == 0:
            total = rows[0][-1] if rows else 0
        else:
            total = await self.pool.fetchval(_COMMENT_COUNT, post_id)
        after = None
        if len(rows) > limit:
            last = rows[limit - 1]
            after = cursor_after("comment", CommentQuery(post_id=post_id, limit=limit), last["updated_at"], last["id"])
        items = [CommentOut(*row[:-1]) for row in rows[:limit]]
        return 200, _encode(CommentPage(items, total, limit, offset, after)), []

    async def create_post(self, caller: uuid.UUID, body: bytes) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        assert self.pool is not None
        content = _content(body)
        now = datetime.now(UTC)
        post = PostOut(uuid.uuid4(), caller, content, now, now, 1)
        async with self.pool.acquire() as connection, connection.transaction():
            user = await connection.fetchrow(users.GET.postgres, caller)
            if user is None or not user["is_active"]:
                raise HttpError(403, "unknown or deactivated user")
            await connection.execute(posts.INSERT.postgres, *msgspec.structs.astuple(post))
        headers = [(b"location", b"/v1/posts/%s" % str(post.id).encode()), (b"etag", b'"1"')]
        return 201, _encode(post), headers

    async def update_post(
        self, caller: uuid.UUID, post_id: uuid.UUID, body: bytes
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        assert self.pool is not None
        content = _content(body)
        async with self.pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(posts.GET_FOR_UPDATE.postgres, post_id)
            if row is None:
                raise HttpError(404, "no such post")
            if row["owner_id"] != caller:
                raise HttpError(403, "not the owner")
            post = PostOut(*row)
            post = msgspec.structs.replace(
                post, content=content, updated_at=datetime.now(UTC), version=post.version + 1
            )
            changed = await connection.fetchval(
                posts.UPDATE.postgres, post.id, post.content, post.updated_at, post.version, post.version - 1
            )
            if changed is None:
                raise HttpError(412, "changed concurrently")
        return 200, _encode(post), [(b"etag", b'"%d"' % post.version)]

    # -- ASGI -------------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        try:
            status, body, headers = await self.route(scope, receive)
        except HttpError as exc:
            status, body, headers = exc.status, _encode({"status": exc.status, "detail": exc.detail}), []
        except (ValueError, KeyError, msgspec.ValidationError, msgspec.DecodeError):
            status, body, headers = 400, b'{"status":400}', []
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [_JSON, (b"content-length", b"%d" % len(body)), *headers],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def route(self, scope: dict[str, Any], receive: Any) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        path: str = scope["path"]
        method: str = scope["method"]
        if path == "/health":
            return 200, b"{}", []
        caller = self.caller(scope)
        if path in ("/v1/posts", "/v1/posts/"):
            if method == "GET":
                return await self.list_posts(dict(parse_qsl(scope["query_string"].decode())))
            if method == "POST":
                return await self.create_post(caller, await _body(receive))
        elif path.startswith("/v1/posts/"):
            post_id = uuid.UUID(path.removeprefix("/v1/posts/"))
            if method == "GET":
                return await self.get_post(post_id)
            if method == "PATCH":
                return await self.update_post(caller, post_id, await _body(receive))
        elif path in ("/v1/comments", "/v1/comments/") and method == "GET":
            return await self.list_comments(dict(parse_qsl(scope["query_string"].decode())))
        raise HttpError(404, "no such route")

    async def lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _content(body: bytes) -> str:
    content = _decode_content(body).content.strip()
    if not content or len(content) > CONTENT_MAX_LENGTH:
        raise HttpError(400, "content must be 1-10000 characters")
    return content


app = Ceiling()
