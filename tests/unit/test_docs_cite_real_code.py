"""The docs and comments may only name code that exists.

A rename leaves prose behind: a README that sends a reader to a function after it is gone costs
them the minute the README was meant to save. This reads every Markdown file
of the repository and every comment and docstring of our Python code, and checks what they cite:

- a path in backquotes (``app/http/observe.py``, ``deploy/otel/collector.yaml``) must exist;
- a dotted name rooted in one of our packages (``app.logging.apply``, ``domain.policy``) must import
  and resolve, attribute by attribute;
- a Markdown link to a local file must lead to one;
- in Markdown, ``Class.attribute`` in backquotes (``JwtVerifier.configure``) must name a class of
  ours that has that attribute.
"""

from __future__ import annotations

import ast
import importlib
import io
import re
import tokenize
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "domain", "adapters", "tests", "benchmarks", "scaffold")
CODE_DIRS = ("app", "domain", "adapters", "tests", "benchmarks", "scaffold")
# Files the repository writes or keeps for others (lock files, generated clients) are not prose of ours.
SKIP_DIRS = {".git", ".venv", "node_modules", "var", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}

_BACKQUOTED = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)\s]*)?\)")
_PATH = re.compile(r"^(?:\./)?((?:[\w.-]+/)+[\w.-]+\.(?:py|fga|yaml|yml|json|sh|md|lua|toml|js|sql|proto))$")
_DOTTED = re.compile(rf"\b((?:{'|'.join(PACKAGES)})(?:\.[A-Za-z_]\w*)+)\b")
# Dotted words rooted in a package name that are not code: a logger's name, a file name.
NOT_CODE = {"app.access", "app.sqlite3"}
_CLASS_ATTRIBUTE = re.compile(r"^([A-Z]\w+)\.([a-z_]\w*)(?:\(\))?$")


def markdown_files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.md") if not SKIP_DIRS.intersection(p.relative_to(ROOT).parts))


def python_files() -> list[Path]:
    return sorted(
        p
        for directory in CODE_DIRS
        for p in (ROOT / directory).rglob("*.py")
        if not SKIP_DIRS.intersection(p.relative_to(ROOT).parts)
    )


def prose_of(path: Path) -> str:
    """A Python file's comments and docstrings (what a reader takes as prose), nothing else."""
    source = path.read_text()
    parts = [
        token.string
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            docstring = ast.get_docstring(node)
            if docstring:
                parts.append(docstring)
    return "\n".join(parts)


@cache
def class_attributes() -> dict[str, set[str]]:
    """Every class defined in our code, with the names defined in its body (methods, attributes)."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                names = found[node.name]
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        names.add(item.name)
                    elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                        names.add(item.target.id)
                    elif isinstance(item, ast.Assign):
                        names.update(t.id for t in item.targets if isinstance(t, ast.Name))
                    elif isinstance(item, ast.ClassDef):
                        names.add(item.name)
                # Instance attributes set in methods (self.x = ...) count too.
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "self":
                        names.add(sub.attr)
    return found


def resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        if not (ROOT / Path(*parts[:cut])).with_suffix(".py").exists() and not (ROOT / Path(*parts[:cut])).is_dir():
            continue
        try:
            target = importlib.import_module(module_name)
        except ImportError:
            return False
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def citations(text: str, *, markdown: bool) -> list[tuple[str, str]]:
    """(kind, name) of every citation in ``text``."""
    found: list[tuple[str, str]] = []
    for quoted in _BACKQUOTED.findall(text) if markdown else []:
        quoted = quoted.strip()
        if (path := _PATH.match(quoted)) and not path.group(1).split("/")[0].isupper():  # VAR_DIR/...: a placeholder
            found.append(("path", path.group(1)))
        elif (pair := _CLASS_ATTRIBUTE.match(quoted)) and quoted.split(".")[0] not in PACKAGES:
            found.append(("class attribute", f"{pair.group(1)}.{pair.group(2)}"))
    if markdown:
        found += [("path", t) for t in _LINK.findall(text) if not t.startswith(("http://", "https://", "mailto:"))]
    # "app.main:app" cites a module; a trailing file suffix is a path, checked above.
    found += [
        ("name", dotted)
        for dotted in _DOTTED.findall(text)
        if dotted not in NOT_CODE and not dotted.endswith((".py", ".md", ".json", ".yaml", ".sh"))
    ]
    return found


def broken(kind: str, name: str, *, relative_to: Path = ROOT) -> bool:
    if kind == "path":  # from the repository's root, or from the citing document's folder
        return not (ROOT / name).exists() and not (relative_to / name).exists()
    if kind == "class attribute":
        cls, attribute = name.split(".")
        return cls in class_attributes() and attribute not in class_attributes()[cls]
    return not resolves(name)


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_document_cites_only_code_that_exists(path: Path) -> None:
    missing = sorted(
        {
            f"{kind} {name}"
            for kind, name in citations(path.read_text(), markdown=True)
            if broken(kind, name, relative_to=path.parent)
        }
    )
    assert not missing, f"{path.relative_to(ROOT)} cites what does not exist: {missing}"


def test_comments_and_docstrings_cite_only_code_that_exists() -> None:
    missing = sorted(
        {
            f"{path.relative_to(ROOT)}: {name}"
            for path in python_files()
            for kind, name in citations(prose_of(path), markdown=False)
            if broken(kind, name)
        }
    )
    assert not missing, f"comments or docstrings cite what does not exist: {missing}"


def test_the_checks_catch_a_name_that_is_gone() -> None:
    text = "see `app.container.no_such_function`, `app/no_such_file.py` and `JwtVerifier.no_such_method`"
    assert [broken(kind, name) for kind, name in citations(text, markdown=True)] == [True, True, True]
    ok = "see `app.logging.apply`, `app/http/observe.py` and `JwtVerifier.configure`"
    assert [broken(kind, name) for kind, name in citations(ok, markdown=True)] == [False, False, False]
