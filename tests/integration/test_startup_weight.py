"""What a worker loads: optional adapters and gRPC only when configured, and never pydantic or rich.

The integrations' client libraries (with their HTTP clients) and httpx (for OIDC discovery) add
about 20 MB to each worker's resident set; a service running with none of them configured and dev
keys must not carry them. pydantic and rich are installed (Piccolo's and Litestar's
dependencies) but unused, and kept out by app/__init__.py: another 15 MB (issue 6's RSS budget,
benchmarks/README.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# grpc and google (protobuf, grpcio-status): only with GRPC_PORT set, when the app's lifecycle starts them.
# opentelemetry (and wrapt, its instrumentation's): only with tracing on (an OTEL_* exporter, app/tracing.py).
OPTIONAL = (
    # region: openfga
    "openfga_sdk",
    # endregion
    "aiohttp",
    "consul",
    "requests",
    "httpx",
    "grpc",
    "google",
    "opentelemetry",
    "wrapt",
)
NEVER = ("pydantic", "rich", "pygments")

PROBE = """
import json, sys
from app.main import create_app
create_app()
print(json.dumps(sorted({name.split(".")[0] for name, module in sys.modules.items() if module is not None})))
"""
# The same after start-up (pool, tables bound, key source), with migrations left to `just migrate`.
STARTED_PROBE = """
import asyncio, json, sys
from litestar.testing import AsyncTestClient
from app.main import create_app

async def start():
    async with AsyncTestClient(app=create_app()) as client:
        assert (await client.get("/health/ready")).status_code == 200
        return sorted({name.split(".")[0] for name, module in sys.modules.items() if module is not None} | set(sys.modules))

print(json.dumps(asyncio.run(start())))
"""


def loaded_packages(tmp_path: Path, probe: str = PROBE, **settings: str) -> set[str]:
    foreign = (
        # region: openfga
        "OPENFGA_",
        # endregion
        "CONSUL_",
        "OIDC_",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(foreign)}
    env |= {
        "PYTHONPATH": str(REPO_ROOT),
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path}/app.sqlite3",
        "VAR_DIR": str(tmp_path / "var"),
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_a_worker_without_integrations_or_oidc_loads_none_of_their_clients(tmp_path):
    loaded = loaded_packages(tmp_path)
    assert {"litestar", "asyncpg"} <= loaded  # the probe did build the app
    assert loaded.isdisjoint(OPTIONAL + NEVER), sorted(loaded & set(OPTIONAL + NEVER))


# region: openfga
def test_configuring_openfga_loads_its_sdk(tmp_path):
    loaded = loaded_packages(
        tmp_path,
        OPENFGA_API_URL="http://127.0.0.1:1",
        OPENFGA_STORE_ID="01HZZZZZZZZZZZZZZZZZZZZZZZ",
        OPENFGA_MODEL_ID="01HZZZZZZZZZZZZZZZZZZZZZZZ",
    )
    assert "openfga_sdk" in loaded
    assert loaded.isdisjoint(NEVER), sorted(loaded & set(NEVER))


# endregion


def test_tracing_loads_opentelemetry_and_no_client_it_does_not_trace(tmp_path):
    loaded = loaded_packages(tmp_path, OTEL_TRACES_EXPORTER="console")  # instrumented in create_app
    assert {"opentelemetry", "wrapt"} <= loaded
    unused = {
        # region: openfga
        "openfga_sdk",
        # endregion
        "aiohttp",
        "consul",
        "httpx",
        "grpc",
    }
    assert loaded.isdisjoint(unused | set(NEVER)), sorted(loaded & (unused | set(NEVER)))


def test_a_started_worker_loads_no_migration_machinery(tmp_path):
    """Piccolo's migration runner (and black, which it imports) are for `just migrate`: 3 MB and 114
    modules a worker that does not migrate must not carry (the tables are found without them)."""
    loaded = loaded_packages(tmp_path, STARTED_PROBE, DB_AUTO_MIGRATE="false")
    assert "piccolo.table" in loaded  # the probe did start the app
    assert loaded.isdisjoint({"black", "piccolo.conf.apps", "piccolo.apps.migrations"}), sorted(
        loaded & {"black", "piccolo.conf.apps", "piccolo.apps.migrations"}
    )
