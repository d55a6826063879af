"""`just new-resource` end to end, in a throwaway copy of this working tree: two resources, the second
with every field type and flag and references to the first (and to posts, with the example domain), then the lint steps a
new resource can break and the new resources' own tests (with the migration and the SQL snapshot
checked on both engines, and the permission model, its new types included, by the real engine and by
the stand-in server). A refusal met while staging leaves the copy as it was.

The copy reuses this virtualenv's interpreter and mypy's cache; nothing is installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.support.servers import REPO_ROOT

pytestmark = pytest.mark.slow


def _free(*plurals: str) -> str:
    """The first name no resource of this repository has (a team may have generated ``tags`` already)."""
    return next(p for p in plurals if not (REPO_ROOT / "domain" / f"{p}.py").exists())


FIRST = _free("tags", "labels", "stickers", "badges")
SECOND = _free("bookmarks", "links", "clippings", "pins")
TAGS = [FIRST, "name:str:max=50:unique"]
BOOKMARKS = [
    SECOND,
    "title:str:max=120",
    "url:str:max=2000:unique",
    "note:text:optional",
    "pinned:bool",
    "due:datetime:optional",
    "rank:int:optional",
    "external_id:uuid:optional",
    f"{FIRST.removesuffix('s')}:ref:optional",
    # region: blog
    "post:ref",
    # endregion
]
BIN = Path(sys.executable).parent


def run(root: Path, *command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def git(root: Path, *args: str) -> str:
    done = run(root, "git", "-c", "user.name=t", "-c", "user.email=t@t", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working tree's files (tracked, and new ones git would add) committed in a fresh repository."""
    root = tmp_path_factory.mktemp("repo")
    listed = git(REPO_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for path in filter(None, listed):
        if (REPO_ROOT / path).is_file():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / path, root / path)
    if (REPO_ROOT / ".mypy_cache").is_dir():  # a warm cache: mypy checks only what changed
        shutil.copytree(REPO_ROOT / ".mypy_cache", root / ".mypy_cache")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root


def new_resource(root: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return run(root, sys.executable, "-m", "scaffold.new_resource", *argv)


def test_a_dirty_file_it_edits_is_a_refusal_that_writes_nothing(copy):
    routes = copy / "app" / "routes.py"
    original = routes.read_text()
    routes.write_text(original + "# a change of my own\n")
    try:
        done = new_resource(copy, *TAGS)
        assert done.returncode == 2
        assert done.stderr.strip() == (
            "new-resource: uncommitted changes in app/routes.py: commit or stash them first "
            "(the generator edits or builds on it)"
        )
        assert git(copy, "status", "--porcelain") == " M app/routes.py\n"
    finally:
        routes.write_text(original)


def test_a_refusal_met_while_staging_leaves_the_tree_as_it_was(copy):
    routes = copy / "app" / "routes.py"
    original = routes.read_text()
    routes.write_text(original.replace("`just new-resource` adds", "someone reworded"))
    git(copy, "commit", "-qam", "anchor gone")
    try:
        done = new_resource(copy, *TAGS)
        assert done.returncode == 2
        assert "app/routes.py: no line holds the anchor" in done.stderr
        assert git(copy, "status", "--porcelain", "--untracked-files=all") == ""
    finally:
        git(copy, "reset", "-q", "--hard", "HEAD~1")


def test_two_resources_pass_lint_and_their_tests_with_no_hand_edit(copy):
    started = time.monotonic()
    done = new_resource(copy, *TAGS)
    assert done.returncode == 0, done.stderr
    git(copy, "add", "-A")
    git(copy, "commit", "-qm", "tags")
    done = new_resource(copy, *BOOKMARKS)
    assert done.returncode == 0, done.stderr
    generated = time.monotonic() - started

    changed = {line[3:] for line in git(copy, "status", "--porcelain", "--untracked-files=all").splitlines()}
    migrations = {path for path in changed if path.startswith("piccolo_migrations/")}
    assert len(migrations) == 1
    assert changed - migrations == {
        f"domain/{SECOND}.py",
        f"domain/use_cases/{SECOND}.py",
        f"adapters/db/{SECOND}.py",
        f"app/http/controllers/{SECOND}.py",
        f"tests/examples/{SECOND}.py",
        f"tests/unit/test_{SECOND}.py",
        f"tests/integration/test_{SECOND}_db.py",
        f"tests/api/test_{SECOND}_api.py",
        f"tests/snapshots/sql/{SECOND}.sql",
        "app/container.py",
        "app/routes.py",
        "app/http/docs.py",
        # region: openfga
        "adapters/authz/model.fga",
        "adapters/authz/model.fga.yaml",
        "adapters/db/outbox.py",
        # endregion
    }
    # region: openfga
    # Their OpenFGA types and one test each, which `fga model test` runs below. (Their owner tuples in the
    # outbox and the backfill: their own database tests, run below too.)
    singulars = [name.removesuffix("s") for name in (FIRST, SECOND)]
    model = (copy / "adapters" / "authz" / "model.fga").read_text()
    assert all(f"\ntype {singular}\n  relations\n    define owner: [user]\n" in model for singular in singulars)
    model_tests = yaml.safe_load((copy / "adapters" / "authz" / "model.fga.yaml").read_text())["tests"]
    assert [test["tuples"][0]["object"] for test in model_tests[-2:]] == [f"{singular}:1" for singular in singulars]
    # endregion

    for step in (
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
        ["lint-imports"],
        # region: openfga
        ["fga", "model", "test", "--tests", "adapters/authz/model.fga.yaml"],
        # endregion
    ):
        done = run(copy, *step)
        assert done.returncode == 0, f"{' '.join(step)}:\n{done.stdout}{done.stderr}"
    # region: openfga
    assert f"Tests {len(model_tests)}/{len(model_tests)} passing" in done.stdout + done.stderr
    # endregion

    done = run(copy, sys.executable, "-m", "app.cli", "openapi", "openapi.json")
    assert done.returncode == 0, done.stderr
    document = json.loads((copy / "openapi.json").read_text())
    routes = {f"/v1/{name}" for name in (FIRST, SECOND)} | {f"/v1/{SECOND}/{{{SECOND.removesuffix('s')}_id}}"}
    assert routes <= set(document["paths"])

    tests = [
        f"tests/{level}/test_{name}{suffix}.py"
        for name in (FIRST, SECOND)
        for level, suffix in (("unit", ""), ("integration", "_db"), ("api", "_api"))
    ]
    done = run(
        copy,
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        *tests,
        "tests/integration/test_sql_snapshot.py",
        # region: openfga
        "tests/integration/test_fga_model.py",
        "tests/integration/test_fake_openfga.py",
        # endregion
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    print(f"generated both in {generated:.0f} s; green after {time.monotonic() - started:.0f} s")
