"""Counters the reliability tests fill in, printed at the end of the run (see tests/reliability/conftest.py)."""

from __future__ import annotations

from collections import Counter

STATS: Counter[str] = Counter()
