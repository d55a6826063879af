"""What the templates need beyond Jinja's own filters, loaded by Copier as a Jinja extension
(``_jinja_extensions`` in each template's copier.yml).

``sql``: a statement as Python string literals that fit the line length, split between words, so
that the generated SQL reads as the posts' does (ruff's formatter joins pieces that fit on one line).
"""

from __future__ import annotations

import re

from jinja2 import Environment
from jinja2.ext import Extension

WIDTH = 100  # characters of SQL per literal; with its indentation and quotes, within ruff's 120


def literal(piece: str) -> str:
    quote = "'" if '"' in piece else '"'
    return f"{quote}{piece}{quote}"


# Where a statement reads best broken: before its clauses, as the hand-written statements break.
_CLAUSES = re.compile(r" (?=(?:FROM|WHERE|VALUES|SET|RETURNING|ORDER BY|FOR UPDATE) )")


def sql(statement: str, indent: int = 4) -> str:
    """``statement`` as adjacent literals, each on its own line after the first: its clauses packed
    into lines of at most WIDTH characters, a clause longer than that broken between words."""
    lines: list[str] = []
    for clause in _CLAUSES.split(statement):
        if lines and len(lines[-1]) + 1 + len(clause) <= WIDTH:
            lines[-1] += " " + clause
            continue
        lines.append("")
        for word in clause.split(" "):
            if lines[-1] and len(lines[-1]) + 1 + len(word) > WIDTH:
                lines.append(word)
            else:
                lines[-1] = f"{lines[-1]} {word}".lstrip()
    pieces = [line + " " for line in lines[:-1]] + lines[-1:]
    return ("\n" + " " * indent).join(literal(piece) for piece in pieces)


class Filters(Extension):
    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["sql"] = sql
