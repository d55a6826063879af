"""The OpenAPI document, judged by a real client generator: openapi-python-client builds a client
from what `python -m app.cli openapi` writes (with this project's template, clients/python/, which
adds what the generator leaves out: the declared response headers), without a warning; the client
then talks to the app and reads ETag and Location as typed values, and sends If-None-Match and
If-Match as the parameters the document declares."""

from __future__ import annotations

import importlib
import subprocess
import sys
import typing
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from app.cli import main as cli
from app.main import create_app
from tests.support.servers import REPO_ROOT
from tests.support.tokens import TestKeys

TEMPLATES = REPO_ROOT / "clients" / "python"
# Named after the OpenAPI title, the service's name (a new service's too: `just new-service` renames it).
PACKAGE = "blog-service".replace("-", "_") + "_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    root = tmp_path_factory.mktemp("client")
    document = root / "openapi.json"
    assert cli(["openapi", str(document)]) == 0
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(root / "out"),
            "--custom-template-path",
            str(TEMPLATES),
            "--config",
            str(TEMPLATES / "config.yaml"),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(root / "out"))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root / "out"))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_the_client_types_etag_and_location_and_declares_the_conditional_headers(generated: ModuleType) -> None:
    users = _module("api.users")
    for headers in (
        users.V1UsersMeMeHeaders200,
        users.V1UsersMeMeHeaders304,
        users.V1UsersUserIdGetHeaders200,
        users.V1UsersUserIdGetHeaders304,
    ):
        assert typing.get_type_hints(headers) == {"etag": str}, headers
    assert "if_none_match" in typing.get_type_hints(_module("api.users.v1_users_user_id_get").asyncio_detailed)
    # region: blog
    posts = _module("api.posts")
    assert typing.get_type_hints(posts.V1PostsCreateHeaders201) == {"location": str, "etag": str}
    for headers in (
        posts.V1PostsPostIdGetHeaders200,
        posts.V1PostsPostIdGetHeaders304,
        posts.V1PostsPostIdUpdateHeaders200,
    ):
        assert typing.get_type_hints(headers) == {"etag": str}, headers
    get = typing.get_type_hints(_module("api.posts.v1_posts_post_id_get").asyncio_detailed)
    delete = typing.get_type_hints(_module("api.posts.v1_posts_post_id_delete").asyncio_detailed)
    assert "if_none_match" in get
    assert "if_match" in delete
    # endregion


async def test_the_generated_client_reads_them_from_the_app(
    generated: ModuleType, engine: Any, make_container: Any, keys: TestKeys
) -> None:
    users = _module("api.users")
    me, by_id = _module("api.users.v1_users_me_me"), _module("api.users.v1_users_user_id_get")
    async with AsyncTestClient(app=create_app(make_container())) as http:
        http.headers.update(keys.headers("alice"))
        client = generated.AuthenticatedClient(base_url=str(http.base_url), token="unused")
        client.set_async_httpx_client(http)  # the app in process; the token is on the test client

        mine = await me.asyncio_detailed(client=client)
        assert mine.status_code == 200
        tag = users.v1_users_me_me_headers_200(mine)["etag"]
        cached = await by_id.asyncio_detailed(str(mine.parsed.id), client=client, if_none_match=tag)
        assert cached.status_code == 304
        assert users.v1_users_user_id_get_headers_304(cached) == {"etag": tag}

        # region: blog
        posts = _module("api.posts")
        create, get, delete = (
            _module(f"api.posts.{name}")
            for name in ("v1_posts_create", "v1_posts_post_id_get", "v1_posts_post_id_delete")
        )
        content_in = _module("models").ContentIn

        created = await create.asyncio_detailed(client=client, body=content_in(content="typed"))
        assert created.status_code == 201
        headers = posts.v1_posts_create_headers_201(created)
        assert headers == {"location": f"/v1/posts/{created.parsed.id}", "etag": '"1"'}

        cached = await get.asyncio_detailed(str(created.parsed.id), client=client, if_none_match=headers["etag"])
        assert cached.status_code == 304
        assert posts.v1_posts_post_id_get_headers_304(cached) == {"etag": '"1"'}

        stale = await delete.asyncio_detailed(str(created.parsed.id), client=client, if_match='"7"')
        assert stale.status_code == 412
        assert stale.parsed.status == 412
        # endregion
