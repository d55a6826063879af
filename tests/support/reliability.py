"""What the reliability tests share: the counters they fill in, printed at the end of the run (see
tests/reliability/conftest.py), and the bound on any one request."""

from __future__ import annotations

from collections import Counter

STATS: Counter[str] = Counter()

# "Does it answer at all": far above the configured timeouts, a guard and not a timing assertion.
NO_HANG_SECONDS = 30
