"""A resource's names, all derived from the plural its author gives (``todo_lists``): the module and
URL, the singular for the entity, table, kind and ids, the class names. See ``Names.of``."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from scaffold.errors import Refused

_IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")

# SQL words a table is better not named, though quoted (PostgreSQL's reserved key words): a resource
# whose singular is one takes its plural for its table.
_RESERVED_SQL = """
    all analyse analyze and any array as asc both case cast check column constraint create current_date
    current_role current_time current_user default desc distinct do else end except false fetch for
    foreign from grant group having in initially intersect into lateral leading limit localtime not
    null offset on only or order placing primary references returning select session_user some
    symmetric table then to trailing true union unique user using variadic when where window with
"""
RESERVED_SQL = frozenset(_RESERVED_SQL.split())


# Names the generated modules import or use as locals: a resource named so would shadow them.
_SHADOWING = """
    uuid datetime msgspec pytest asyncio itertools page query request principal changes now data
    response found created updated revised fakes client keys engine container owner user users field
    fields value statement
"""
SHADOWING = frozenset(_SHADOWING.split())


def singular_of(plural: str) -> str | None:
    """English's regular plurals only: ``categories`` → ``category``, ``boxes`` → ``box``, ``tags`` →
    ``tag``. None when the word does not look like a regular plural (``--singular`` says it then)."""
    if plural.endswith("ies") and len(plural) > 4:
        return plural[:-3] + "y"
    for ending in ("sses", "xes", "zes", "ches", "shes"):
        if plural.endswith(ending):
            return plural[:-2]
    if plural.endswith("s") and not plural.endswith(("ss", "us", "is")):
        return plural[:-1]
    return None


def camel(snake: str) -> str:
    return "".join(part.title() for part in snake.split("_"))


@dataclass(frozen=True)
class Names:
    plural: str  # todo_lists: the modules (domain/todo_lists.py ...), the fakes' table, the route names
    singular: str  # todo_list: the table, the ids (todo_list_id), the permission kind

    @classmethod
    def of(cls, plural: str, singular: str | None = None) -> Names:
        """The names for ``plural``; ``singular`` where English is irregular (``people`` → ``person``)."""
        for word, what in ((plural, "NAME"), (singular, "--singular")):
            if word is not None and not _IDENTIFIER.fullmatch(word):
                raise Refused(f"{what} {word!r} must be lower-case snake_case: letters, digits, single underscores")
        singular = singular or singular_of(plural)
        if singular is None:
            raise Refused(f"NAME {plural!r} is not a regular plural: give the plural, or its singular with --singular")
        if singular == plural:
            raise Refused(f"NAME {plural!r} must differ from its singular: the list and the item need two names")
        for word in (plural, singular):
            if keyword.iskeyword(word) or keyword.issoftkeyword(word):
                raise Refused(f"{word!r} is a Python keyword")
        if plural in SHADOWING or singular in SHADOWING:
            raise Refused(f"NAME {plural!r} would shadow a name the generated code uses")
        return cls(plural, singular)

    @property
    def entity(self) -> str:  # TodoList
        return camel(self.singular)

    @property
    def entities(self) -> str:  # TodoLists (ListTodoLists)
        return camel(self.plural)

    @property
    def kind(self) -> str:  # "todo list": in messages (NotFound, Forbidden, Conflict)
        return self.singular.replace("_", " ")

    @property
    def kinds(self) -> str:  # "todo lists": in docs and summaries
        return self.plural.replace("_", " ")

    @property
    def id(self) -> str:  # todo_list_id: the path parameter, and a reference's field
        return f"{self.singular}_id"

    @property
    def url(self) -> str:  # /v1/todo-lists
        return "/v1/" + self.plural.replace("_", "-")

    @property
    def table(self) -> str:
        """The singular, as ``post`` is; the plural where the singular is a reserved word in SQL
        (``orders``: ``order``), as ``users`` is."""
        return self.plural if self.singular in RESERVED_SQL else self.singular


_SLUG = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


@dataclass(frozen=True)
class ServiceNames:
    """A new service's names, all derived from the one its team gives (``orders``, ``order-book``):
    see ``ServiceNames.of``. The Python packages (app, domain, adapters) keep their names in every
    service: they say what a module is, not whose."""

    slug: str  # order-book: the word the team chose, without a trailing "-service"

    @classmethod
    def of(cls, name: str) -> ServiceNames:
        if not _SLUG.fullmatch(name) or len(name) > 40:
            raise Refused(
                f"--name {name!r} must be lower-case words joined by single hyphens, at most 40 characters: "
                "orders, order-book"
            )
        slug = name.removesuffix("-service")
        if slug == "service":
            raise Refused(f"--name {name!r}: give what the service is about (orders), not only 'service'")
        return cls(slug)

    @property
    def distribution(self) -> str:  # order-book-service: pyproject, the image, the database's application_name
        return f"{self.slug}-service"

    @property
    def snake(self) -> str:  # order_book: compose's project, its database and role, the permission store
        return self.slug.replace("-", "_")

    @property
    def display(self) -> str:  # Order book service: the README's title, the OpenAPI title
        return f"{self.slug.replace('-', ' ').capitalize()} service"
