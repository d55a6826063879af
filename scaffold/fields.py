"""The field grammar of ``just new-resource NAME FIELD...``: ``NAME:TYPE[:FLAG]...``.

=============  ==========================================  ==========================================
TYPE           holds                                       stored as (Piccolo)
=============  ==========================================  ==========================================
``str``        a line of text, trimmed, 1–``max`` chars    ``Varchar(length=max)``; ``max=200`` unless
               (``max=N`` sets it, up to 10,000)           given
``text``       text, trimmed, 1–10,000 characters          ``Text``
``int``        a 32-bit integer                            ``Integer``
``bool``       true or false                               ``Boolean``
``datetime``   an instant, RFC 3339 with its offset        ``Timestamptz`` (given back in UTC)
``uuid``       a UUID                                      ``UUID``
``ref``        another resource's id: ``post:ref`` is a    ``ForeignKey`` to its table, ON DELETE
               field ``post_id`` naming a post that must   CASCADE (SET NULL when optional)
               exist (else 404); ``author:ref=user`` is a
               field ``author_id`` naming a user
=============  ==========================================  ==========================================

FLAG: ``optional`` (may be null; left out on create it is null), ``unique`` (no two rows share a
value; the database refuses the second, a 409), ``max=N`` (``str`` only).

Every resource also has ``id``, ``owner_id``, ``created_at``, ``updated_at`` and ``version``; a
field may not take those names, nor a listing parameter's.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass

from scaffold.errors import Refused

TYPES = ("str", "text", "int", "bool", "datetime", "uuid", "ref")
STR_MAX_DEFAULT = 200
STR_MAX_LIMIT = 10_000  # domain.model.CONTENT_MAX_LENGTH: past it, use text
# The columns every resource has, and the listings' query parameters (a filter must not shadow one).
RESERVED = frozenset({"id", "owner_id", "created_at", "updated_at", "version"})
LISTING_PARAMETERS = frozenset({"from_date", "to_date", "sort_by", "order", "limit", "offset", "cursor"})
# The page statement's own column beside the fields (adapters/db/sql.py: ``<total> AS total``).
PAGE_COLUMNS = frozenset({"total"})
# Names the generated code uses for its own parameters and locals beside the fields.
LOCALS = frozenset(
    {"now", "principal", "changes", "query", "owner", "request", "data", "uow", "clock", "users", "fields"}
    | {"once", "first", "answer"}  # a create sent with an Idempotency-Key
)
# Unique only where an index of it is cheap and the rule makes sense.
UNIQUE_TYPES = frozenset({"str", "int", "datetime", "uuid", "ref"})

_NAME = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


@dataclass(frozen=True)
class Field:
    name: str  # the attribute, column and JSON name: "title"; "post_id" for post:ref
    type: str
    optional: bool = False
    unique: bool = False
    max_length: int | None = None  # str: its bound; text: STR_MAX_LIMIT
    target: str | None = None  # ref: the referenced resource's singular ("post")

    @property
    def python_type(self) -> str:
        base = {"str": "str", "text": "str", "int": "int", "bool": "bool", "datetime": "datetime"}.get(
            self.type, "uuid.UUID"
        )
        return f"{base} | None" if self.optional else base

    @property
    def is_filter(self) -> bool:
        """Listings filter on it by equality (``?post_id=...``, ``?done=true``)."""
        return self.type in {"ref", "bool"}

    @property
    def mutable(self) -> bool:
        """A PATCH may change it. A reference is set on create and stays, as a comment's post does."""
        return self.type != "ref"

    @property
    def label(self) -> str:  # "due date", "post" (post_id): in messages and test names
        return (self.name.removesuffix("_id") if self.type == "ref" else self.name).replace("_", " ")


def parse_field(spec: str) -> Field:
    """One ``NAME:TYPE[:FLAG]...``; ``Refused`` says what is wrong with it."""
    name, _, rest = spec.partition(":")
    if not rest:
        raise Refused(f"field {spec!r} needs a type: NAME:TYPE, e.g. {name}:str")
    kind, *flags = rest.split(":")
    if not _NAME.fullmatch(name):
        raise Refused(f"field {spec!r}: the name must be lower-case snake_case (letters, digits, single underscores)")
    target = None
    if kind == "ref" or kind.startswith("ref="):
        target = kind.removeprefix("ref").removeprefix("=") or name
        if not _NAME.fullmatch(target):
            raise Refused(f"field {spec!r}: ref=NAME names a resource by its singular, e.g. ref=user")
        kind, name = "ref", f"{name}_id"
    if kind not in TYPES:
        raise Refused(f"field {spec!r}: unknown type {kind!r}; the types are {', '.join(TYPES)}")
    optional = unique = False
    max_length = STR_MAX_DEFAULT if kind == "str" else STR_MAX_LIMIT if kind == "text" else None
    for flag in flags:
        if flag == "optional":
            optional = True
        elif flag == "unique":
            if kind not in UNIQUE_TYPES:
                raise Refused(f"field {spec!r}: a {kind} cannot be unique")
            unique = True
        elif flag.startswith("max="):
            if kind != "str":
                raise Refused(f"field {spec!r}: max= is for str fields")
            number = flag.removeprefix("max=")
            if not number.isdigit() or not 1 <= int(number) <= STR_MAX_LIMIT:
                raise Refused(f"field {spec!r}: max= takes a number from 1 to {STR_MAX_LIMIT} (longer: use text)")
            max_length = int(number)
        else:
            raise Refused(f"field {spec!r}: unknown flag {flag!r}; the flags are optional, unique, max=N")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise Refused(f"field {spec!r}: {name!r} is a Python keyword")
    if name in RESERVED or name in LISTING_PARAMETERS or name in PAGE_COLUMNS or name in LOCALS:
        raise Refused(f"field {spec!r}: {name!r} is taken (every resource has {', '.join(sorted(RESERVED))})")
    return Field(name, kind, optional, unique, max_length, target)


def parse_fields(specs: Iterable[str]) -> list[Field]:
    fields = [parse_field(spec) for spec in specs]
    seen: set[str] = set()
    for field in fields:
        if field.name in seen:
            raise Refused(f"field {field.name!r} is given twice")
        seen.add(field.name)
    return fields
