"""``uv run just new-resource NAME [FIELD ...] [--singular WORD]``: a whole resource shaped like posts.

NAME is the plural (``tags``, ``todo_lists``); FIELDs follow scaffold/fields.py (``name:str:max=50:unique``,
``due:datetime:optional``, ``post:ref``). What it does, in order:

1. Checks, reading the tree only: the name and the fields, the resources referenced, that none of the
   files it writes exists and that what it edits or builds on has no uncommitted change. A refusal is
   one line and exit status 2, and nothing is written.
2. Stages: copies the tracked tree to a temporary directory and works there alone. Copier renders the
   templates (templates/resource/); the bindings and the route go in at their anchors (edits.py);
   ruff sorts the imports and formats what was written; the app must import. Where the service has a
   permission model (adapters/authz/model.fga), the resource's type and its assertions go into it
   (authz_model.py) and its owners into the backfill's list (add_permissions).
3. Completes, still in the copy: Piccolo's own migration generator writes the migration
   (``piccolo migrations new blog --auto``), and ``tests.support.sql_snapshot`` the SQL snapshot.
4. Moves into place what was written and edited. The repository is not touched before this step.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from scaffold import authz_model
from scaffold.edits import add_imports, insert_above
from scaffold.errors import Refused, run
from scaffold.fields import parse_fields
from scaffold.names import Names
from scaffold.project import existing_resources, files_of
from scaffold.resource import template_data

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).resolve().parent / "templates" / "resource"
CONTAINER, ROUTES, DOCS = "app/container.py", "app/routes.py", "app/http/docs.py"
BINDINGS_ANCHOR = "`just new-resource` binds a new resource's repository and reader above this line."
ROUTES_ANCHOR = "`just new-resource` adds a new resource's controller above this line."
TAGS_ANCHOR = "`just new-resource` adds a new resource's tag above this line."
# region: openfga
OUTBOX = "adapters/db/outbox.py"
BACKFILL_ANCHOR = "`just new-resource` adds a new resource's owners above this line."
# endregion
# What the new resource is built on: uncommitted changes there would leak into its migration or
# snapshot, or be overwritten.
MUST_BE_CLEAN = (CONTAINER, ROUTES, DOCS, "adapters/db", "adapters/authz", "piccolo_migrations", "tests/snapshots/sql")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, like every other refusal
        raise Refused(message)


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def check(root: Path, names: Names, fields_specs: Sequence[str]) -> dict[str, object]:
    """Everything that can be refused before anything is written; the templates' data."""
    fields = parse_fields(fields_specs)
    if not fields:
        raise Refused("give the resource's fields, e.g. name:str:max=50:unique (see docs/adding-a-resource.md)")
    existing = existing_resources(root)
    if names.singular in existing or any(e.table == names.table for e in existing.values()):
        raise Refused(
            f"a resource {names.singular!r} exists (adapters/db/{existing[names.singular].plural}.py)"
            if names.singular in existing
            else f"a table {names.table!r} exists"
        )
    for path in files_of(names):
        if (root / path).exists() or (root / path.removesuffix(".py")).is_dir():
            raise Refused(f"{path} exists: the resource {names.plural!r} is there already, or its name is taken")
    data = template_data(names, fields, existing) | {"owner_tuples": False}
    # region: openfga
    data["owner_tuples"] = authz_model.enabled(
        root
    )  # the type, its assertions and the owner tuples (docs/permissions.md)
    # endregion
    dirty = _git(root, "status", "--porcelain", "--untracked-files=all", "--", *MUST_BE_CLEAN)
    if dirty:
        first = dirty.splitlines()[0][3:]
        raise Refused(
            f"uncommitted changes in {first}: commit or stash them first (the generator edits or builds on it)"
        )
    return data


def stage(root: Path, staging: Path, names: Names, data: dict[str, object]) -> list[str]:
    """The resource written into ``staging`` (a copy of the tracked tree); the paths written or edited."""
    for path in _git(root, "ls-files", "-z").split("\0"):
        if path and (root / path).is_file():
            (staging / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / path, staging / path)
    before = set(_git(root, "ls-files", "-z").split("\0"))
    # Imported here, not at the top: Copier needs pydantic, which app/__init__.py keeps out of every
    # process that imports the app (the tests' included), and only rendering needs Copier.
    import copier

    # Our own template, in this repository: its Jinja extension (templating.py) is code we ship.
    copier.run_copy(str(TEMPLATE), staging, data=data, defaults=True, quiet=True, unsafe=True, overwrite=False)
    entity, plural = names.entity, names.plural
    container = (staging / CONTAINER).read_text()
    container = insert_above(
        container,
        BINDINGS_ANCHOR,
        [
            f"{entity}Repository: Singleton(Piccolo{entity}Repository),",
            f"{entity}Reader: Singleton(Piccolo{entity}Reader),",
        ],
        path=CONTAINER,
    )
    container = add_imports(
        container,
        [
            f"from adapters.db.{plural} import Piccolo{entity}Reader, Piccolo{entity}Repository",
            f"from domain.{plural} import {entity}Reader, {entity}Repository",
        ],
        path=CONTAINER,
    )
    (staging / CONTAINER).write_text(container)
    routes = insert_above((staging / ROUTES).read_text(), ROUTES_ANCHOR, [f"{entity}Controller,"], path=ROUTES)
    routes = add_imports(routes, [f"from app.http.controllers.{plural} import {entity}Controller"], path=ROUTES)
    (staging / ROUTES).write_text(routes)
    description = f"{names.kinds.capitalize()}: anyone authenticated reads them, their owner (or an admin) changes them"
    docs = insert_above(
        (staging / DOCS).read_text(),
        TAGS_ANCHOR,
        [f"Tag(name={names.kinds!r}, description={description!r}),"],
        path=DOCS,
    )
    (staging / DOCS).write_text(docs)
    permissions: list[str] = []
    # region: openfga
    if data["owner_tuples"]:
        permissions = add_permissions(staging, names)
    # endregion

    python_files = [p for p in [*files_of(names), CONTAINER, ROUTES, DOCS, *permissions] if p.endswith(".py")]
    # The templates import what any resource may need; ruff drops what this one does not, and sorts.
    run(
        [sys.executable, "-m", "ruff", "check", "--quiet", "--fix", "--select", "I,F401", *python_files],
        staging,
        "ruff",
    )
    run([sys.executable, "-m", "ruff", "format", "--quiet", *python_files], staging, "ruff format")
    run([sys.executable, "-c", "import app.routes"], staging, "importing the app with the new resource")
    run(
        [sys.executable, "-m", "piccolo.main", "migrations", "new", "blog", "--auto", f"--desc={plural}"],
        staging,
        "piccolo migrations new",
    )
    run([sys.executable, "-m", "tests.support.sql_snapshot"], staging, "the SQL snapshot")
    after = {str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    migrations = sorted(p for p in after - before if p.startswith("piccolo_migrations/"))
    if len(migrations) != 1:
        raise Refused(f"piccolo wrote {len(migrations)} migrations, not one")
    return [*files_of(names), *migrations, CONTAINER, ROUTES, DOCS, *permissions]


# region: openfga
def add_permissions(staging: Path, names: Names) -> list[str]:
    """The resource's OpenFGA type and its assertions, and its owners in the backfill's list; the
    paths edited. Only where the model file exists (``authz_model.enabled``)."""
    model, tests = staging / authz_model.MODEL, staging / authz_model.MODEL_TESTS
    model.write_text(authz_model.add_type(model.read_text(), names))
    tests.write_text(authz_model.add_assertions(tests.read_text(), names))
    kind, backfill = names.singular, (staging / OUTBOX).read_text()
    if re.search(rf'^\s*"{kind}": \(', backfill, re.MULTILINE):
        raise Refused(f"{OUTBOX}: the backfill has a kind {kind!r} already")
    row = (names.table, "'user:' || CAST(owner_id AS TEXT)", "owner", f"'{kind}:' || CAST(id AS TEXT)", "TRUE")
    (staging / OUTBOX).write_text(insert_above(backfill, BACKFILL_ANCHOR, [f"{kind!r}: {row!r},"], path=OUTBOX))
    return [authz_model.MODEL, authz_model.MODEL_TESTS, OUTBOX]


# endregion


def move_into_place(staging: Path, root: Path, paths: Sequence[str]) -> None:
    """Copy ``paths`` from the staging copy into the repository; on any failure, undo what was copied."""
    originals = {p: (root / p).read_bytes() for p in paths if (root / p).exists()}
    done: list[str] = []
    try:
        for path in paths:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(staging / path, root / path)
            done.append(path)
    except BaseException:
        for path in done:
            if path in originals:
                (root / path).write_bytes(originals[path])
            else:
                (root / path).unlink()
        raise


def main(argv: Sequence[str] | None = None, root: Path = ROOT) -> int:
    started = time.monotonic()
    parser = _Parser(prog="just new-resource", description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the plural, snake_case: tags, todo_lists")
    parser.add_argument("fields", nargs="*", help="NAME:TYPE[:FLAG]... (docs/adding-a-resource.md)")
    parser.add_argument("--singular", help="where the plural is irregular: --singular person")
    try:
        args = parser.parse_args(argv)
        names = Names.of(args.name, args.singular)
        data = check(root, names, args.fields)
        with tempfile.TemporaryDirectory(prefix="new-resource-") as staging:
            paths = stage(root, Path(staging), names, data)
            move_into_place(Path(staging), root, paths)
    except Refused as refusal:
        print(f"new-resource: {refusal}", file=sys.stderr)
        return 2
    print(f"wrote {names.plural} in {time.monotonic() - started:.1f} s:")
    for path in paths:
        print(f"  {path}")
    tests = " ".join(p for p in paths if p.startswith("tests/") and p.endswith(".py") and "/test_" in p)
    print(f"next: review the diff, then `uv run just lint && uv run just test {tests}`, and commit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
