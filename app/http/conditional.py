"""Entity tags: the resource version as a strong validator, ``"<version>"``; If-Match and If-None-Match."""

from __future__ import annotations

import hashlib

import msgspec

from domain.errors import InvalidInput


def etag(version: int) -> str:
    return f'"{version}"'


def content_etag(representation: msgspec.Struct) -> str:
    """A strong validator for a resource without a version (a user): a digest of its JSON, so that
    it changes exactly when what a client would receive does."""
    return f'"{hashlib.blake2b(msgspec.json.encode(representation), digest_size=12).hexdigest()}"'


def expected_versions(if_match: str | None) -> frozenset[int] | None:
    """The versions an If-Match accepts: the change goes ahead if one of them is current.
    None when any version will do (absent or ``*``).

    Weak tags and tags that are no version of ours are never current (If-Match compares strongly,
    RFC 9110 §13.1.1): a header naming only such tags accepts nothing (412).
    """
    if if_match is None or if_match.strip() == "*":
        return None
    versions: set[int] = set()
    for tag in (part.strip() for part in if_match.split(",")):
        if tag.startswith('W/"') and tag.endswith('"'):
            continue
        if len(tag) < 2 or tag[0] != '"' or tag[-1] != '"':
            raise InvalidInput("If-Match", 'expected entity tags such as "3", or *')
        if tag[1:-1].isdigit():
            versions.add(int(tag[1:-1]))
    return frozenset(versions)


def none_match(if_none_match: bytes, current: bytes | None) -> bool:
    """Whether If-None-Match names the current entity tag (weak comparison, RFC 9110 §13.1.2), so
    that a GET answers 304. A malformed header matches nothing: the client gets the full answer."""
    if current is None:
        return False
    if if_none_match.strip() == b"*":
        return True
    opaque = current.removeprefix(b"W/")
    return any(tag.strip().removeprefix(b"W/") == opaque for tag in if_none_match.split(b","))
