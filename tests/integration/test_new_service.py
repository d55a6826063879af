"""`just new-service` end to end: a service made from this working tree with every integration, and one
without the integrations that can be left out, each then checked with the new project's own README
commands: `uv sync`, `uv run just lint` and `uv run just test` on the tests that read what a rename
touches, and, without integrations, on its users' API tests (the app built and run over what stays)
and every test file the removal changed. The other test files are this repository's own, unchanged, and this suite runs them
here. The service without integrations then grows a resource (`just new-resource tags ...`), lint and
its tests green: a service without the example domain must still be able to.

Nothing is downloaded: `uv sync` runs offline from uv's cache (this virtualenv was built from it),
the new project borrows this checkout's node_modules (buf, Spectral) and mypy's cache. The time
from the command to green tests is printed (`pytest -s`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scaffold.names import ServiceNames
from scaffold.service import INTEGRATIONS, TEMPLATE, left_out, rename, strip_regions
from tests.support.servers import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.new_service]

# Every integration left out, as issue 15 names them: gRPC goes with blog (scaffold/service.py: IMPLIES).
WITHOUT = "openfga,consul,webhook,blog"
assert left_out(WITHOUT.split(",")) == INTEGRATIONS.keys() | {TEMPLATE}
# What a rename touches: the docs' citations, the config output, the OpenAPI document, the deployment files.
RENAMED = [
    "tests/unit/test_docs_cite_real_code.py",
    "tests/unit/test_http_helpers.py",
    "tests/api/test_service_api.py",
    "tests/integration/test_deploy_files.py",
]
# ... and what a removal may break besides the test files it changed (lint has read every file by then):
# the app built and run over what stays, and what a worker loads.
REMOVED = ["tests/api/test_users_and_auth_api.py", "tests/integration/test_startup_weight.py"]


def changed_tests(dest: Path) -> list[str]:
    """The new project's test files that differ from this repository's by more than the markers and
    the names: those a removed region changed."""
    names = ServiceNames.of("orders")
    changed = []
    for path in sorted((dest / "tests").rglob("test_*.py")):
        relative = str(path.relative_to(dest))
        here = rename(strip_regions((REPO_ROOT / relative).read_text(), frozenset(), path=relative), relative, names)
        if path.read_text() != here:
            changed.append(relative)
    return changed


def run(
    cwd: Path, *command: str, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # The new project's own virtualenv, not this one: uv picks it from the project directory.
    environ = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT"}}
    environ |= {"UV_OFFLINE": "1", **(env or {})}
    return subprocess.run(command, cwd=cwd, env=environ, capture_output=True, text=True, timeout=timeout, check=False)


def tail(done: subprocess.CompletedProcess[str]) -> str:
    return "\n".join((done.stdout + done.stderr).splitlines()[-40:])


def new_service(dest: Path, *argv: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = run(REPO_ROOT, sys.executable, "-m", "scaffold.new_service", str(dest), "--name", "orders", *argv)
    return done, time.monotonic() - started


def tracked(root: Path) -> list[str]:
    return run(root, "git", "ls-files").stdout.splitlines()


@pytest.mark.parametrize("without", ["", WITHOUT], ids=["every-integration", "without-" + WITHOUT])
def test_a_new_service_passes_its_own_lint_and_tests(tmp_path, without):
    dest = tmp_path / "orders"
    done, generated = new_service(dest, *(["--without", without] if without else []))
    assert done.returncode == 0, tail(done)

    files = tracked(dest)
    assert run(dest, "git", "status", "--porcelain").stdout == "", "everything written is in the first commit"
    assert run(dest, "git", "rev-list", "--count", "HEAD").stdout.strip() == "1"
    answers = (dest / ".copier-answers.yml").read_text()
    assert "_commit: " in answers
    assert f"_src_path: {REPO_ROOT}" in answers
    assert "name: orders" in answers
    removed = left_out(without.split(","))
    recorded = ",".join(sorted(removed - {TEMPLATE}))  # what was left out, the implied included
    assert re.search(rf"^without: '?{re.escape(recorded)}'?$", answers, re.MULTILINE), answers
    assert 'name = "orders-service"' in (dest / "pyproject.toml").read_text()
    assert (dest / "README.md").read_text().startswith("# Orders service\n")
    assert not [p for p in files if p.startswith("scaffold/") and "service" in p], "the generator stays here"
    markers = ["-e", "region: ", "-e", "endregion", "-e", '"only": "']
    leftover = run(dest, "git", "grep", "-l", "-e", "blog-service", *markers).stdout
    assert leftover == "", f"names or markers left in: {leftover}"
    lock = (dest / "uv.lock").read_text()
    for integration, package in (("grpc", "grpcio"), ("consul", "py-consul"), ("openfga", "openfga-sdk")):
        assert (f'name = "{package}"' in lock) == (integration not in removed), (integration, package)
    if "openfga" in removed:  # no trace in its code, settings, deployment files or names of files
        assert not [p for p in files if re.search(r"openfga|outbox|relay|\.fga", p)]
        code = ["*.py", "*.toml", "*.yaml", "*.json", "*.sh", "justfile", "Containerfile"]
        assert run(dest, "git", "grep", "-l", "-i", "-e", "openfga", "-e", "relation_outbox", "--", *code).stdout == ""

    started = time.monotonic()
    synced = run(dest, "uv", "sync", "--locked")
    assert synced.returncode == 0, tail(synced)
    (dest / "node_modules").symlink_to(REPO_ROOT / "node_modules")
    if (REPO_ROOT / ".mypy_cache").is_dir():  # a warm cache: mypy checks only what changed
        shutil.copytree(REPO_ROOT / ".mypy_cache", dest / ".mypy_cache")
    lint = run(dest, "uv", "run", "just", "lint")
    assert lint.returncode == 0, tail(lint)
    linted = time.monotonic() - started
    selected = sorted({*RENAMED, *changed_tests(dest), *(REMOVED if without else [])})
    tests = run(dest, "uv", "run", "just", "test", "-q", "-p", "no:cacheprovider", *selected)
    assert tests.returncode == 0, tail(tests)
    green = time.monotonic()
    print(
        f"\nnew-service {without or '(everything)'}: {len(files)} files written in {generated:.0f} s; "
        f"sync and lint {linted:.0f} s; tests {green - started - linted:.0f} s "
        f"({tests.stdout.strip().splitlines()[-1]}); command to green tests {generated + green - started:.0f} s"
    )
    if "blog" in removed:
        assert not [p for p in files if re.search(r"(^|/)(test_)?(posts|comments|sharing)(_api)?\.py$", p)]
        migrations_match_the_tables(dest)
    if without:
        grows_a_resource(dest)


def migrations_match_the_tables(dest: Path) -> None:
    """The migration history left (the first one without posts and comments) builds exactly the tables
    the code defines: Piccolo's own generator, which compares the two, finds nothing to add."""
    env = {"DATABASE_URL": f"sqlite:///{dest / 'var' / 'migrations.sqlite3'}"}
    (dest / "var").mkdir(exist_ok=True)
    forwards = run(dest, "uv", "run", "piccolo", "migrations", "forwards", "blog", env=env)
    assert forwards.returncode == 0, tail(forwards)
    auto = run(dest, "uv", "run", "piccolo", "migrations", "new", "blog", "--auto", env=env)
    assert auto.returncode == 0, tail(auto)
    assert "No changes detected" in auto.stdout + auto.stderr, tail(auto)


def grows_a_resource(dest: Path) -> None:
    """A service left with users alone (no example domain) still grows resources: `just new-resource`,
    then its lint and the generated tests, as docs/adding-a-resource.md tells."""
    started = time.monotonic()
    made = run(dest, "uv", "run", "just", "new-resource", "tags", "name:str:max=50:unique")
    assert made.returncode == 0, tail(made)
    lint = run(dest, "uv", "run", "just", "lint")
    assert lint.returncode == 0, tail(lint)
    generated = ["tests/unit/test_tags.py", "tests/integration/test_tags_db.py", "tests/api/test_tags_api.py"]
    tests = run(dest, "uv", "run", "just", "test", "-q", "-p", "no:cacheprovider", *generated)
    assert tests.returncode == 0, tail(tests)
    print(
        f"new-resource tags in it: lint and its tests green in {time.monotonic() - started:.0f} s "
        f"({tests.stdout.strip().splitlines()[-1]})"
    )
