"""What the repository already holds, read from its source (never imported): the resources a new one
may reference, and the names and files a new one must not take."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from scaffold.names import Names


@dataclass(frozen=True)
class Existing:
    """A resource the repository has: its Piccolo table in ``adapters/db/<plural>.py``."""

    plural: str  # the module: adapters/db/posts.py, domain/posts.py, tests/examples/posts.py
    singular: str
    table: str  # the table's name in SQL
    table_class: str
    entity: str
    makers: bool  # tests/examples/<plural>.py makes one (new_<singular>, create_<singular>)
    fakes: bool  # ... and binds its fakes (fake_<plural>): Fakes does not know it (a generated resource)

    @property
    def kind(self) -> str:
        return self.singular.replace("_", " ")


def snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def _functions(path: Path) -> set[str]:
    if not path.exists():
        return set()
    module = ast.parse(path.read_text())
    return {node.name for node in module.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def existing_resources(root: Path) -> dict[str, Existing]:
    """Every table in ``adapters/db/``, by the singular its class names (``PostTable`` → ``post``)."""
    found: dict[str, Existing] = {}
    for path in sorted((root / "adapters" / "db").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if not (isinstance(node, ast.ClassDef) and node.name.endswith("Table") and node.name != "Table"):
                continue
            tablename = next(
                (k.value.value for k in node.keywords if k.arg == "tablename" and isinstance(k.value, ast.Constant)),
                snake(node.name.removesuffix("Table")),
            )
            singular = snake(node.name.removesuffix("Table"))
            functions = _functions(root / "tests" / "examples" / path.name)
            found[singular] = Existing(
                plural=path.stem,
                singular=singular,
                table=str(tablename),
                table_class=node.name,
                entity=node.name.removesuffix("Table"),
                makers={f"new_{singular}", f"create_{singular}"} <= functions,
                fakes=f"fake_{path.stem}" in functions,
            )
    return found


def files_of(names: Names) -> list[str]:
    """The files a resource of these names is made of, relative to the repository's root."""
    p = names.plural
    return [
        f"domain/{p}.py",
        f"domain/use_cases/{p}.py",
        f"adapters/db/{p}.py",
        f"app/http/controllers/{p}.py",
        f"tests/examples/{p}.py",
        f"tests/unit/test_{p}.py",
        f"tests/integration/test_{p}_db.py",
        f"tests/api/test_{p}_api.py",
        f"tests/snapshots/sql/{p}.sql",
    ]
