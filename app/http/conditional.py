"""ETag / If-Match: the resource version as a strong validator, ``"<version>"``."""

from __future__ import annotations

from domain.errors import InvalidInput

# Versions start at 1: an If-Match that names no version we could have is never satisfied (412).
UNSATISFIABLE = 0


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match demands; None when any version will do (absent or ``*``).

    Weak tags never match: If-Match uses strong comparison (RFC 9110 §13.1.1).
    """
    if if_match is None or if_match.strip() == "*":
        return None
    versions: list[int] = []
    for tag in (part.strip() for part in if_match.split(",")):
        if tag.startswith('W/"') and tag.endswith('"'):
            continue
        if len(tag) < 2 or tag[0] != '"' or tag[-1] != '"':
            raise InvalidInput("If-Match", 'expected entity tags such as "3", or *')
        if tag[1:-1].isdigit():
            versions.append(int(tag[1:-1]))
    return versions[0] if versions else UNSATISFIABLE
