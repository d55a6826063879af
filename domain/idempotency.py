"""Retries that create once: a create sent with an idempotency key, and the answer kept for its retries.

A caller that is not sure its create arrived (a timeout, a dropped connection) sends it again with the
same key. The first request to take the key creates, and its answer (status, headers, body: what the
client got, byte for byte) is kept with the key, in the same unit of work as the row it created; a
retry within ``KEPT_FOR`` gets that answer back and creates nothing. The rule is stated once, in
domain/use_cases/steps.py (``replay``, ``keep_answer``); the store is the ``IdempotencyKeys`` port
(domain/ports.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import msgspec

from domain.errors import Conflict, DomainError, InvalidInput

KEPT_FOR = timedelta(hours=24)
KEY_MAX_LENGTH = 255
KEY_FIELD = "Idempotency-Key"  # the HTTP header; gRPC's metadata is its lower-case twin


def clean_key(raw: str) -> str:
    """A key is 1–255 printable ASCII characters (the space included); anything else is bad input."""
    if not 0 < len(raw) <= KEY_MAX_LENGTH or not all(" " <= c <= "~" for c in raw):
        raise InvalidInput(KEY_FIELD, f"must be 1–{KEY_MAX_LENGTH} printable ASCII characters, sent once")
    return raw


class Answer(msgspec.Struct, frozen=True):
    """What the first request was answered, as the client received it: replayed to every retry."""

    status: int
    headers: dict[str, str]
    body: bytes


class Recorded(msgspec.Struct, frozen=True):
    """A key already used: the fingerprint of the request that took it, and the answer it got."""

    fingerprint: bytes
    answer: Answer


@dataclass(frozen=True, slots=True)
class Idempotent[T]:
    """A create sent with an idempotency key. ``key`` is the caller's (another caller's same key is
    another key); ``fingerprint`` identifies the request (a digest of method, route and body), which
    a retry must repeat; ``answer`` renders what the client gets for the created ``T``, so that it can
    be kept before the unit of work commits."""

    key: str
    fingerprint: bytes
    answer: Callable[[T], Answer]


class KeyInFlight(Conflict):
    """The first request with this key is still running: retry once it has finished (a 409)."""


class KeyReused(DomainError):
    """The key was first used for another request (another body or route): a 422, nothing created."""
