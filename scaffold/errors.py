"""The one error a generator raises on its own: a refusal, said in one line before anything is written."""

from __future__ import annotations


class Refused(Exception):
    """The command cannot do what was asked; ``str(error)`` says why, in one line."""
