"""The bridge from lagom to Litestar (app/http/dependencies.py): what the handlers declare is what is provided."""

from __future__ import annotations

import pytest
from lagom import Container
from litestar import Controller, get
from litestar.di import NamedDependency

from app.http.dependencies import dependencies


class Greeter:
    def __call__(self) -> str:
        return "hello"


class Counter:
    pass


class Greetings(Controller):
    path = "/greetings"

    @get("/")
    async def greet(self, greeter: NamedDependency[Greeter]) -> str:
        return greeter()


class Clash(Controller):
    path = "/clash"

    @get("/")
    async def count(self, greeter: NamedDependency[Counter]) -> str:
        return ""


def test_each_declared_dependency_is_provided_once_from_the_container():
    container = Container()
    provided = dependencies(container, [Greetings])
    assert set(provided) == {"greeter"}
    greeter = provided["greeter"].dependency()
    assert isinstance(greeter, Greeter)
    assert provided["greeter"].dependency() is greeter, "resolved once, when the app is built"


def test_one_name_for_two_types_is_refused_at_start_up():
    with pytest.raises(TypeError, match="greeter"):
        dependencies(Container(), [Greetings, Clash])
