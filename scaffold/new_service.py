"""``uv run just new-service DEST --name NAME [--without openfga,consul,webhook,blog,grpc]``: a new
project at DEST made from this repository (docs/new-service.md).

1. Checks before writing anything: the name (``ServiceNames``), every ``--without`` value, that DEST
   does not exist or is an empty directory, that this is a git repository. A refusal is one line and
   exit status 2, and nothing is written.
2. Copier renders this repository as a template (copier.yml) from git at HEAD, so the new project
   holds the tracked files and ``.copier-answers.yml`` records the commit and the answers; its task
   (scaffold/service.py) renames, leaves out what ``--without`` names and writes a new ``uv.lock``.
3. ``git init`` and a first commit in DEST. Should any step fail, DEST is removed (or emptied, when
   it was an empty directory given).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from scaffold.errors import Refused
from scaffold.names import ServiceNames
from scaffold.service import INTEGRATIONS, TEMPLATE, left_out

ROOT = Path(__file__).resolve().parents[1]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, like every other refusal
        raise Refused(message)


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Refused(f"git {args[0]} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


def check_destination(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Refused(f"{dest} exists and is not an empty directory: choose a new one")


def render(root: Path, dest: Path, names: ServiceNames, without: frozenset[str]) -> None:
    # Imported here: Copier needs pydantic, which app/__init__.py keeps out of every process that
    # imports the app; only rendering needs it.
    import copier

    asked = ",".join(sorted(without - {TEMPLATE}))
    with warnings.catch_warnings():
        # Uncommitted changes of the template are included, and Copier says so: fine for a try-out,
        # but `copier update` will not find that commit later (docs/new-service.md).
        warnings.simplefilter("ignore")
        copier.run_copy(
            str(root),
            dest,
            data={"name": names.slug, "without": asked},
            vcs_ref="HEAD",
            defaults=True,
            quiet=True,
            unsafe=True,  # the task is scaffold/service.py, code of this repository
            overwrite=False,
        )


def first_commit(dest: Path, names: ServiceNames) -> None:
    _git(dest, "init", "--quiet")
    _git(dest, "add", "-A")
    identity = []  # the committer git is configured with, else a stand-in (a fresh CI machine has none)
    if not _git(dest, "config", "--default", "", "user.email").strip():
        identity = ["-c", "user.name=new-service", "-c", "user.email=new-service@localhost"]
    _git(dest, *identity, "commit", "--quiet", "--no-verify", "-m", f"{names.display}, made by just new-service")


def main(argv: Sequence[str] | None = None, root: Path = ROOT) -> int:
    started = time.monotonic()
    parser = _Parser(prog="just new-service", description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path, help="where the new project goes: a new or empty directory")
    parser.add_argument("--name", required=True, help="lower-case words joined by hyphens: orders, order-book")
    parser.add_argument("--without", default="", help=f"comma-separated, of: {','.join(INTEGRATIONS)}")
    created = False
    try:
        args = parser.parse_args(argv)
        names = ServiceNames.of(args.name)
        without = left_out(args.without.split(","))
        dest: Path = args.dest.resolve()
        check_destination(dest)
        _git(root, "rev-parse", "HEAD")
        created = not dest.exists()
        try:
            render(root, dest, names, without)
            first_commit(dest, names)
        except BaseException:
            if created:
                shutil.rmtree(dest, ignore_errors=True)
            else:
                for child in dest.iterdir():
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
            raise
    except Refused as refusal:
        print(f"new-service: {refusal}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as failure:
        print(f"new-service: {' '.join(map(str, failure.cmd))} failed ({failure.returncode})", file=sys.stderr)
        return 1
    files = len(_git(dest, "ls-files").splitlines())
    print(f"{names.display} written to {dest} in {time.monotonic() - started:.1f} s: {files} files, one commit")
    left = sorted(without - {TEMPLATE})
    if left:
        print(f"  left out: {', '.join(left)}")
    print(f"next: cd {dest} && uv run just test   (and `uv run just dev` to run it; npm ci once for lint)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
