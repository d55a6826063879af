"""The bridge from lagom to Litestar's dependency injection, derived from what the handlers declare.

A handler asks for what it needs by type, ``create_post: NamedDependency[CreatePost]``; Litestar
injects by name. ``dependencies(container, handlers)`` reads every such declaration and provides
that name with ``container[CreatePost]``, resolved once, when the app is built: use cases and the
services handlers take are stateless singletons, so a request costs a dict lookup and nothing is
listed by hand. Two handlers that give one name two types are refused at start-up.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from lagom import Container
from litestar import Controller
from litestar.di import Dependency, Provide
from litestar.handlers import BaseRouteHandler


def dependencies(container: Container, handlers: Iterable[Any]) -> dict[str, Provide]:
    """One Litestar dependency per ``NamedDependency[T]`` parameter of ``handlers`` (controllers or
    route handlers), each ``container[T]``."""
    wanted: dict[str, Any] = {}
    for handler in _route_handlers(handlers):
        for name, hint in get_type_hints(handler.fn, include_extras=True).items():
            if get_origin(hint) is Annotated and any(isinstance(m, Dependency) for m in hint.__metadata__):
                kind = get_args(hint)[0]
                if wanted.setdefault(name, kind) is not kind:
                    raise TypeError(f"the dependency {name!r} is declared as {wanted[name]} and as {kind}")
    return {
        name: Provide(_constant(container[kind]), use_cache=True, sync_to_thread=False) for name, kind in wanted.items()
    }


def _route_handlers(handlers: Iterable[Any]) -> Iterator[BaseRouteHandler]:
    for handler in handlers:
        if inspect.isclass(handler) and issubclass(handler, Controller):
            yield from (member for _, member in inspect.getmembers(handler) if isinstance(member, BaseRouteHandler))
        elif isinstance(handler, BaseRouteHandler):
            yield handler


def _constant(value: Any) -> Any:
    def provide() -> Any:
        return value

    provide.__annotations__["return"] = type(value)
    return provide
