"""What the container and compose rely on, checked without a container engine: in production the
app writes nothing to its working directory (compose runs it on a read-only root file system with
only /tmp writable), and `just up` / `just down` drive compose."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from adapters.auth.keys import KeySource
from app.container import build_container
from app.main import create_app
from app.settings_layers import decode_settings
from tests.support import databases
from tests.support.tokens import TEST_ISSUER, TestKeys

REPO_ROOT = Path(__file__).resolve().parents[2]


async def test_a_production_app_serves_without_writing_files(tmp_path, keys: TestKeys, monkeypatch):
    if databases.server_url() is None:
        if databases.postgres_required():
            pytest.fail("TEST_DATABASE_URL is required")
        pytest.skip("production mode needs PostgreSQL: set TEST_DATABASE_URL")
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    async with databases.fresh_migrated(tmp_path, postgres=True) as url:
        env = {
            "APP_ENV": "production",
            "DATABASE_URL": url,
            "OIDC_ISSUER": TEST_ISSUER,
            "KEYCLOAK_WEBHOOK_SECRET": "secret",
            "METRICS_ENABLED": "true",
        }
        container = build_container(decode_settings([("env", env)]).settings, overrides={KeySource: keys})
        async with AsyncTestClient(app=create_app(container)) as client:
            for path in ("/health/live", "/health/ready", "/metrics", "/docs", "/docs/openapi.json"):
                assert (await client.get(path)).status_code == 200, path
            assert (await client.get("/v1/users/me", headers=keys.headers())).status_code == 200
    assert list(workdir.iterdir()) == []


def test_importing_piccolo_conf_creates_no_directory(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", "import piccolo_conf"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("recipe", "expected"), [("up", "compose up -d --build"), ("down", "compose down -v")])
def test_up_and_down_wrap_compose(recipe, expected):
    args = [str(Path(sys.executable).parent / "just"), recipe, *(["-v"] if recipe == "down" else [])]
    env = {**os.environ, "COMPOSE": "echo compose"}
    result = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
