"""Lines a generator adds to files it does not own (the composition root, the route list), placed by
anchors written in those files, so that an edit never depends on how the code around it is laid out.

Copier renders whole files; it has no way to add a line to an existing one. Two kinds of anchor do:
a comment line naming the generator (``insert_above``: the new lines go above it, at its indentation),
and the module's imports (``add_imports``: after the last top-level import; ruff's import sorting
then puts them in place). A missing anchor is a refusal, never a guess.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from scaffold.errors import Refused


def insert_above(text: str, anchor: str, lines: Sequence[str], *, path: str) -> str:
    """``lines`` above the one line of ``text`` that contains ``anchor``, indented as it is."""
    found = [number for number, line in enumerate(text.splitlines(keepends=True)) if anchor in line]
    if len(found) != 1:
        how = "no line" if not found else f"{len(found)} lines"
        raise Refused(f"{path}: {how} holds the anchor {anchor!r}; restore it (see docs/adding-a-resource.md)")
    existing = text.splitlines(keepends=True)
    at = found[0]
    indent = existing[at][: len(existing[at]) - len(existing[at].lstrip())]
    return "".join([*existing[:at], *(f"{indent}{line}\n" for line in lines), *existing[at:]])


def add_imports(text: str, imports: Sequence[str], *, path: str) -> str:
    """``imports`` (whole ``from x import y`` lines) after the module's last top-level import."""
    try:
        module = ast.parse(text)
    except SyntaxError as exc:
        raise Refused(f"{path}: not valid Python ({exc.msg}, line {exc.lineno})") from None
    last = [node.end_lineno for node in module.body if isinstance(node, ast.Import | ast.ImportFrom)]
    if not last or last[-1] is None:
        raise Refused(f"{path}: has no import to add the new ones after")
    existing = text.splitlines(keepends=True)
    return "".join([*existing[: last[-1]], *(f"{line}\n" for line in imports), *existing[last[-1] :]])
