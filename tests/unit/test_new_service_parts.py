"""`just new-service`'s parts, each on its own: the names, the regions, the rules, the refusals, and
for each integration that what stays imports nothing that went. The whole command runs in
tests/integration/test_new_service.py."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from scaffold import new_service
from scaffold.errors import Refused
from scaffold.names import ServiceNames
from scaffold.service import (
    INTEGRATIONS,
    TEMPLATE,
    goes,
    integrations_of,
    left_out,
    rename,
    strip_only_objects,
    strip_regions,
)
from tests.support.servers import REPO_ROOT

LOCAL = ("app", "domain", "adapters", "tests", "benchmarks", "scaffold", "piccolo_conf", "piccolo_migrations")


def test_names_follow_from_the_one_given():
    names = ServiceNames.of("order-book")
    assert (names.distribution, names.snake, names.display) == (
        "order-book-service",
        "order_book",
        "Order book service",
    )
    assert ServiceNames.of("orders-service") == ServiceNames.of("orders")


@pytest.mark.parametrize("name", ["Orders", "orders_x", "-orders", "orders--x", "1orders", "service", "a" * 41, ""])
def test_a_bad_name_is_refused(name):
    with pytest.raises(Refused):
        ServiceNames.of(name)


def test_rename_replaces_the_names_and_leaves_the_example_domains_words():
    names = ServiceNames.of("orders")
    text = "# Blog service\nname = 'blog-service'\nthe blog service\nposts of a blog, package blog.v1\n"
    assert rename(text, "README.md", names) == (
        "# Orders service\nname = 'orders-service'\nthe orders service\nposts of a blog, package blog.v1\n"
    )
    assert rename("POSTGRES_DB: blog\npackage blog.v1", "compose.yaml", names) == "POSTGRES_DB: orders\npackage blog.v1"


def test_without_names_known_integrations_and_takes_what_they_imply():
    assert left_out([""]) == {TEMPLATE}
    assert left_out([" consul", "grpc "]) == {"consul", "grpc", TEMPLATE}
    assert left_out(["blog"]) == {"blog", "grpc", TEMPLATE}
    with pytest.raises(Refused, match=r"--without kafka: unknown; choose from openfga,consul,webhook,blog,grpc"):
        left_out(["consul", "kafka"])


def test_regions_go_with_their_integration_and_their_markers_always():
    text = "a\n# region: grpc\nb\n    # region: consul\n    c\n    # endregion\n# endregion\nd\n"
    assert strip_regions(text, frozenset({"grpc"}), path="x.py") == "a\nd\n"
    assert strip_regions(text, frozenset({"consul"}), path="x.py") == "a\nb\nd\n"
    assert strip_regions(text, frozenset(), path="x.py") == "a\nb\n    c\nd\n"
    row = "| `GRPC_PORT` | unset | a gRPC server | <!-- only: grpc -->\n"
    assert strip_regions(row, frozenset({"grpc"}), path="x.md") == ""
    assert strip_regions(row, frozenset(), path="x.md") == "| `GRPC_PORT` | unset | a gRPC server |\n"
    assert strip_regions("<!-- region: grpc -->\nx\n<!-- endregion -->\ny\n", frozenset({"grpc"}), path="x.md") == "y\n"


def test_a_json_object_marked_only_goes_with_its_integration():
    panels = '{"panels": [{"id": 1}, {"id": 2, "only": "openfga"}]}'
    assert json.loads(strip_only_objects(panels, frozenset({"openfga"}))) == {"panels": [{"id": 1}]}
    assert json.loads(strip_only_objects(panels, frozenset({"grpc"}))) == {"panels": [{"id": 1}, {"id": 2}]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# region: grpc\n", "region 'grpc' is never closed"),
        ("# endregion\n", "x.py:1: endregion without a region"),
        ("# region: kafka\n# endregion\n", "x.py:1: region of an unknown integration 'kafka'"),
    ],
)
def test_a_broken_region_is_refused(text, message):
    with pytest.raises(Refused, match=message):
        strip_regions(text, frozenset(), path="x.py")


def test_a_file_no_rule_names_is_core():
    assert integrations_of("app/http/controllers/tags.py") == set()
    assert integrations_of("deploy/otel/collector.yaml") == set()
    assert integrations_of("app/grpc/gen/blog/v1/posts_pb2.py") == {"grpc"}
    assert integrations_of("scaffold/new_service.py") == {TEMPLATE}
    # A file may belong to several: it goes when any of them does.
    assert integrations_of("tests/integration/test_permission_parity.py") == {"webhook", "openfga", "blog"}


def test_a_file_that_needs_two_integrations_goes_with_either():
    both = "tests/api/test_sharing_api.py"
    assert goes(both, frozenset({"webhook"}))
    assert goes(both, frozenset({"blog"}))
    assert not goes(both, frozenset({"consul"}))
    assert not goes("app/http/controllers/users.py", frozenset(INTEGRATIONS))


def tracked() -> dict[str, str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    texts = {}
    for path in filter(None, listed.stdout.split("\0")):
        try:
            texts[path] = (REPO_ROOT / path).read_text()
        except (UnicodeDecodeError, FileNotFoundError):
            continue
    return texts


def module_of(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


@pytest.mark.parametrize("without", [*INTEGRATIONS, ",".join(INTEGRATIONS)])
def test_what_stays_imports_nothing_that_went(without):
    """Every region is well formed, and no kept module imports a removed one: a new file that imports
    an integration's module but is not one of its files (a rule or a region) fails here."""
    removed = left_out(without.split(","))
    files = tracked()
    kept = {p: strip_regions(t, removed, path=p) for p, t in files.items() if not goes(p, removed)}
    every = {module_of(p) for p in files if p.endswith(".py")}
    modules = {module_of(p) for p in kept if p.endswith(".py")}
    kept_names = modules | {m.rsplit(".", i)[0] for m in modules for i in range(1, m.count(".") + 1)}
    broken = []
    for path, text in kept.items():
        if not path.endswith(".py") or path.startswith("scaffold/templates/"):
            continue
        module = ast.parse(text, filename=path)
        # An import whose names nothing uses any more is dropped by ruff when the service is made.
        used = {node.id for node in ast.walk(module) if isinstance(node, ast.Name)}
        for node in ast.walk(module):
            if isinstance(node, ast.Import):
                imported = [(alias.name, alias.asname or alias.name.split(".")[0]) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # `from app.grpc import server`: server may be a module of its own
                imported = [
                    (
                        f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in every else node.module,
                        alias.asname or alias.name,
                    )
                    for alias in node.names
                ]
            else:
                continue
            broken += [  # one line per module, however many of its names
                f"{path}:{node.lineno} imports {name}"
                for name, bound in imported
                if name.split(".")[0] in LOCAL and name not in kept_names and bound in used
            ]
    assert not broken, f"--without {without}: " + "; ".join(dict.fromkeys(broken))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--name", "Orders"], "--name 'Orders' must be lower-case words"),
        (["--name", "orders", "--without", "kafka"], "--without kafka: unknown"),
        (["--without", "consul"], "the following arguments are required: --name"),
    ],
)
def test_refusals_write_nothing(tmp_path, capsys, argv, message):
    dest = tmp_path / "new"
    assert new_service.main([str(dest), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not dest.exists()


def test_a_destination_that_holds_anything_is_refused(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep me")
    assert new_service.main([str(tmp_path), "--name", "orders"]) == 2
    assert capsys.readouterr().err.startswith(f"new-service: {tmp_path} exists and is not an empty directory")
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)\s]*)?\)")
_BACKQUOTED_PATH = re.compile(r"`((?:[\w.-]+/)+[\w.-]+\.(?:py|fga|yaml|yml|json|sh|md|proto))`")


@pytest.mark.parametrize("without", sorted(INTEGRATIONS))
def test_what_stays_in_the_docs_links_only_to_files_that_stay(without):
    """The quick half of the new service's own docs test (tests/unit/test_docs_cite_real_code.py): a
    kept Markdown file's links and backquoted paths name kept files, once the regions are gone."""
    removed = left_out([without])
    files = tracked()
    kept = {p: strip_regions(t, removed, path=p) for p, t in files.items() if not goes(p, removed)}
    broken = []
    for path, text in kept.items():
        if not path.endswith(".md"):
            continue
        here = Path(path).parent
        for target in _LINK.findall(text):
            if "://" in target or target.startswith("mailto:"):
                continue
            resolved = os.path.normpath(here / target)
            if resolved in files and resolved not in kept:
                broken.append(f"{path} links to {target}")
        broken += [
            f"{path} cites {cited}" for cited in _BACKQUOTED_PATH.findall(text) if cited in files and cited not in kept
        ]
    assert not broken, f"--without {without}: " + "; ".join(broken)
