"""Fixtures of the reliability tests: a PostgreSQL server of their own, and the run's numbers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from lagom import Container

from adapters.auth.keys import KeySource
from app.container import build_container
from tests.conftest import settings_for
from tests.support import databases
from tests.support.pg_cluster import PgCluster, find_bindir
from tests.support.reliability import STATS
from tests.support.tokens import TestKeys


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if STATS:
        terminalreporter.section("reliability")
        for name, count in sorted(STATS.items()):
            terminalreporter.write_line(f"{name}: {count}")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL server these tests may stop and start (never the shared one)."""
    bindir = find_bindir()
    if bindir is None:
        message = "the database-fault and soak tests need PostgreSQL's server binaries (initdb, pg_ctl)"
        if databases.postgres_required():
            pytest.fail(message)
        pytest.skip(message)
    cluster = PgCluster(bindir).init()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def container_for(tmp_path: Path, keys: TestKeys) -> Callable[..., Container]:
    """The app's real container on a given database URL, with the tests' signing key; ``ports``
    replaces bindings (e.g. a use case that fails on purpose), ``env`` settings."""

    def make(url: str, ports: Mapping[Any, Any] | None = None, **env: str) -> Container:
        return build_container(settings_for(url, tmp_path, **env), overrides={KeySource: keys, **(ports or {})})

    return make
