"""The checked-in snapshot of every statement the repositories and readers can send, in both dialects.

``statements()`` walks the modules of ``adapters/db`` for module-level ``Statement``\\ s and
``Listing``\\ s (every variant of each); each module with any gets ``tests/snapshots/sql/<module>.sql``.
``uv run just sql-snapshot`` (``python -m tests.support.sql_snapshot``) rewrites them;
tests/integration/test_sql_snapshot.py fails while they differ from the code, and runs each
statement past both databases. So a change of SQL shows in a review as a diff of SQL.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import adapters.db
from adapters.db.sql import Listing, Statement

SNAPSHOT_DIR = Path(__file__).resolve().parents[1] / "snapshots" / "sql"


def statements() -> dict[str, list[tuple[str, Statement]]]:
    """Module name → its statements, named, in the order the module defines them."""
    found: dict[str, list[tuple[str, Statement]]] = {}
    for info in pkgutil.iter_modules(adapters.db.__path__):
        module = importlib.import_module(f"adapters.db.{info.name}")
        entries: list[tuple[str, Statement]] = []
        for name, value in vars(module).items():
            if isinstance(value, Statement):
                entries.append((name, value))
            elif isinstance(value, Listing):
                entries.extend((f"{name} {variant}", statement) for variant, statement in value.variants())
        if entries:
            found[info.name] = entries
    return found


def render(module: str, entries: list[tuple[str, Statement]]) -> str:
    lines = [f"-- adapters/db/{module}.py: every statement it can send. Rewritten by `uv run just sql-snapshot`.", ""]
    for name, statement in entries:
        lines += [f"-- {name}", "-- PostgreSQL", f"{statement.postgres};", "-- SQLite", f"{statement.sqlite};", ""]
    return "\n".join(lines)


def expected() -> dict[str, str]:
    """File name → the text it must hold."""
    return {f"{module}.sql": render(module, entries) for module, entries in statements().items()}


def write() -> list[str]:
    """Rewrite the snapshot; returns the files that changed (or went)."""
    SNAPSHOT_DIR.mkdir(parents=True, exist_ok=True)
    wanted = expected()
    changed = []
    for stale in sorted({p.name for p in SNAPSHOT_DIR.glob("*.sql")} - set(wanted)):
        (SNAPSHOT_DIR / stale).unlink()
        changed.append(stale)
    for name, text in wanted.items():
        path = SNAPSHOT_DIR / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(name)
    return changed


if __name__ == "__main__":
    changed = write()
    print(f"rewrote {', '.join(changed)}" if changed else "the SQL snapshot is up to date", file=sys.stderr)
