"""What makes a copy of this repository a new service: Copier's task for ``just new-service`` (copier.yml),
run in the new project's directory after Copier has copied the files, and again by ``copier update``
on each copy it renders, so an update sees the same service the first run made.

``python -m scaffold.service NAME WITHOUT`` (WITHOUT: comma-separated integrations, may be empty):

1. Removes what belongs to an integration left out: whole files by ``RULES`` (globs; a file goes
   with every integration a rule that matches it names, and a file no rule names is core and stays,
   so a new file needs no entry here), and lines
   between region markers in the files that stay::

       # region: openfga          (<!-- region: openfga --> in Markdown)
       ...
       # endregion

   A region's lines go when its integration does; the marker lines themselves go in every service.
   In a Markdown table, where a line between rows would end the table, one row ends in
   ``<!-- only: grpc -->`` instead; in JSON, which has no comments, an object in a list (a
   dashboard's panel) carries ``"only": "openfga"``.
   What only the template repository needs (this module, ``just new-service``) is the integration
   ``template``, left out of every service.
2. Renames: the distribution (``blog-service``), the display name (``Blog service``) and, in the
   deployment files, the project, database and store names (``blog``) take the new service's names
   (``ServiceNames``). The gRPC package ``blog.v1`` is the example domain's wire contract and keeps
   its name; it goes with ``blog``.
3. Sorts imports and drops the imports and assignments left unused by a removed region (ruff:
   ``x = await call()`` keeps the call), then ``uv lock``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from scaffold.errors import Refused, run
from scaffold.names import ServiceNames

# What a team may leave out, and what each takes with it (docs/new-service.md).
INTEGRATIONS = {
    "openfga": "OpenFGA: the adapter, the outbox and its relay, the model and its test, compose's OpenFGA",
    "consul": "configuration from Consul KV and its live reload",
    "webhook": "the Keycloak user-sync webhook (users are still created from their tokens)",
    "blog": "the example domain: posts and comments (and gRPC, whose package blog.v1 is theirs)",
    "grpc": "the gRPC server, its protos and generated code",
}
# Leaving out the first leaves out the second: gRPC serves only the example domain's package.
IMPLIES = {"blog": {"grpc"}}
TEMPLATE = "template"  # what only this repository needs: never in a generated service

# (glob, integrations): ``*`` stays within a directory, ``**`` crosses them. A file goes with every
# integration its matching rules name ("webhook blog": a file that needs both goes when either does).
RULES: tuple[tuple[str, str], ...] = (
    ("copier.yml", TEMPLATE),
    ("scaffold/service.py", TEMPLATE),
    ("scaffold/new_service.py", TEMPLATE),
    ("tests/unit/test_new_service_parts.py", TEMPLATE),
    ("tests/integration/test_new_service.py", TEMPLATE),
    ("docs/new-service.md", TEMPLATE),
    ("adapters/auth/keycloak_events.py", "webhook"),
    ("app/http/controllers/webhooks.py", "webhook"),
    ("domain/use_cases/user_sync.py", "webhook"),
    ("deploy/keycloak/register-webhook.sh", "webhook"),
    ("tests/support/keycloak_events.py", "webhook"),
    ("tests/api/test_keycloak_webhook_api.py", "webhook"),
    ("tests/unit/test_keycloak_events.py", "webhook"),
    ("tests/unit/test_user_sync.py", "webhook"),
    # Group membership reaches the service only through the webhook, and these drive it to test sharing:
    # a service without the webhook still shares with users and groups, untested through Keycloak's events.
    ("tests/api/test_sharing_api.py", "webhook blog"),
    ("tests/integration/test_permission_parity.py", "webhook blog"),
    ("tests/unit/test_sharing.py", "webhook blog"),
    ("adapters/config/**", "consul"),
    ("tests/support/fake_consul.py", "consul"),
    ("tests/api/test_consul_reload_api.py", "consul"),
    ("tests/integration/test_consul_settings.py", "consul"),
    ("tests/integration/test_stand_in_consul.py", "consul"),
    ("docs/consul.md", "consul"),
    ("adapters/authz/openfga.py", "openfga"),
    ("adapters/authz/relay.py", "openfga"),
    ("scaffold/authz_model.py", "openfga"),
    ("adapters/authz/model.fga", "openfga"),
    ("adapters/authz/model.fga.yaml", "openfga"),
    ("adapters/db/outbox.py", "openfga"),
    # The outbox's table and its indexes: a service without OpenFGA never had them.
    ("piccolo_migrations/blog_2026_11_22t03_35_25_922865.py", "openfga"),
    ("piccolo_migrations/blog_2026_11_22t03_35_40_829020.py", "openfga"),
    ("deploy/openfga/**", "openfga"),
    ("tests/support/fake_openfga.py", "openfga"),
    ("tests/support/openfga.py", "openfga"),
    ("tests/integration/test_fga_model.py", "openfga"),
    ("tests/integration/test_openfga_adapter.py", "openfga"),
    ("tests/integration/test_outbox_relay.py", "openfga"),
    ("tests/integration/test_relay_command.py", "openfga"),
    ("tests/integration/test_fake_openfga.py", "openfga"),
    ("tests/integration/test_permission_parity.py", "openfga"),
    ("tests/api/test_openfga_api.py", "openfga"),
    ("tests/unit/test_openfga_settings.py", "openfga"),
    ("app/grpc/**", "grpc"),
    ("proto/**", "grpc"),
    ("buf.yaml", "grpc"),
    ("tests/grpc/**", "grpc"),
    ("tests/integration/test_grpc_*.py", "grpc"),
    ("tests/unit/test_grpc_*.py", "grpc"),
    ("tests/support/grpc_client.py", "grpc"),
    ("benchmarks/grpc_load.py", "grpc"),
    ("docs/grpc.md", "grpc"),
    # The example domain: posts, comments and their sharing with users and groups (groups serve only
    # sharing: without blog, the webhook accepts group events and ignores them).
    ("domain/posts.py", "blog"),
    ("domain/comments.py", "blog"),
    ("domain/sharing.py", "blog"),
    ("domain/use_cases/posts.py", "blog"),
    ("domain/use_cases/comments.py", "blog"),
    ("domain/use_cases/sharing.py", "blog"),
    ("adapters/db/posts.py", "blog"),
    ("adapters/db/comments.py", "blog"),
    ("adapters/db/sharing.py", "blog"),
    ("adapters/db/row_counts.py", "blog"),  # only posts and comments are counted by triggers
    ("adapters/authz/builtin.py", "blog"),
    ("app/http/controllers/posts.py", "blog"),
    ("app/http/controllers/comments.py", "blog"),
    ("app/http/controllers/sharing.py", "blog"),
    ("piccolo_migrations/blog_2026_11_22t03_09_27_130736.py", "blog"),  # listing indexes
    ("piccolo_migrations/blog_2026_11_22t07_20_00_000000.py", "blog"),  # row counts
    ("piccolo_migrations/blog_2026_12_06t23_11_15_121505.py", "blog"),  # sharing
    ("piccolo_migrations/blog_2026_12_06t23_11_16_000000.py", "blog"),  # sharing indexes
    ("tests/api/test_posts_api.py", "blog"),
    ("tests/api/test_comments_api.py", "blog"),
    ("tests/examples/posts.py", "blog"),
    ("tests/examples/comments.py", "blog"),
    ("tests/unit/test_posts_and_comments.py", "blog"),
    ("tests/integration/test_row_counts.py", "blog"),
    ("tests/snapshots/sql/posts.sql", "blog"),
    ("tests/snapshots/sql/comments.sql", "blog"),
    ("tests/snapshots/sql/sharing.sql", "blog"),
    # The benchmarks (and `just bench`, a region) measure posts and comments; these tests need their
    # listings, contents or many writes (a generated resource brings its own API and database tests).
    ("benchmarks/**", "blog"),
    ("tests/integration/test_benchmark_smoke.py", "blog"),
    ("tests/support/load.py", "blog"),
    ("tests/reliability/test_soak.py", "blog"),
    ("tests/reliability/test_concurrency.py", "blog"),
    ("tests/reliability/test_properties.py", "blog"),
    ("tests/api/test_idempotency_api.py", "blog"),
    ("tests/unit/test_idempotency.py", "blog"),
    ("tests/integration/test_cursor_paging.py", "blog"),
    ("docs/performance.md", "blog"),  # the benchmark and its figures
    # OpenFGA's tests (each goes with openfga too, above) drive it with posts' and comments' relationships.
    ("tests/integration/test_openfga_adapter.py", "blog"),
    ("tests/integration/test_outbox_relay.py", "blog"),
    ("tests/integration/test_relay_command.py", "blog"),
    ("tests/api/test_openfga_api.py", "blog"),
)

_MARKER = re.compile(r"^\s*@?(?:#|//|--|<!--)\s*(region:\s*(?P<name>[a-z]+)|endregion)\b.*$")
# One line of a Markdown table, where a marker line would end the table: `| ... | <!-- only: grpc -->`.
_ONLY = re.compile(r"\s*<!-- only: (?P<name>[a-z]+) -->(?=\n?$)")


def _pattern(glob: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*/?|\*)", glob)
    regex = "".join(
        ".*" if part.startswith("**") else "[^/]*" if part == "*" else re.escape(part) for part in parts if part
    )
    return re.compile(regex)


_RULES = tuple((_pattern(glob), integration) for glob, integration in RULES)


def integrations_of(path: str) -> frozenset[str]:
    """The integrations a whole file belongs to (it goes when any of them does); none for core, kept
    in every service."""
    return frozenset(name for pattern, names in _RULES if pattern.fullmatch(path) for name in names.split())


def goes(path: str, removed: frozenset[str]) -> bool:
    """Whether a service without ``removed`` leaves the whole file out: it belongs to one of them."""
    return not integrations_of(path).isdisjoint(removed)


def left_out(without: Iterable[str]) -> frozenset[str]:
    """The integrations a service made ``without`` these lacks, what they imply and ``template``
    included; a refusal on an unknown one."""
    asked = {w.strip() for w in without if w.strip()}
    unknown = sorted(asked - INTEGRATIONS.keys())
    if unknown:
        raise Refused(f"--without {','.join(unknown)}: unknown; choose from {','.join(INTEGRATIONS)}")
    for integration in list(asked):
        asked |= IMPLIES.get(integration, set())
    return frozenset(asked | {TEMPLATE})


def strip_regions(text: str, removed: frozenset[str], *, path: str) -> str:
    """``text`` without the marker lines, and without the lines of a region whose integration is removed."""
    kept: list[str] = []
    stack: list[str] = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        marker = _MARKER.match(line)
        if marker is None:
            only = _ONLY.search(line)
            if only is not None:
                line = line[: only.start()] + line[only.end() :]
            if not removed.intersection(stack) and (only is None or only["name"] not in removed):
                kept.append(line)
            continue
        if marker["name"] is not None:
            if marker["name"] not in INTEGRATIONS and marker["name"] != TEMPLATE:
                raise Refused(f"{path}:{number}: region of an unknown integration {marker['name']!r}")
            stack.append(marker["name"])
        elif not stack:
            raise Refused(f"{path}:{number}: endregion without a region")
        else:
            stack.pop()
    if stack:
        raise Refused(f"{path}: region {stack[-1]!r} is never closed")
    return "".join(kept)


def strip_only_objects(text: str, removed: frozenset[str]) -> str:
    """A JSON document without the objects (in lists) whose ``"only"`` names a removed integration,
    and without that key in the objects that stay."""

    def kept(value: object) -> object:
        if isinstance(value, dict):
            return {key: kept(item) for key, item in value.items() if key != "only"}
        if isinstance(value, list):
            return [kept(item) for item in value if not (isinstance(item, dict) and item.get("only") in removed)]
        return value

    return json.dumps(kept(json.loads(text)), indent=2, ensure_ascii=False) + "\n"


# Deployment files name the project, its database, role and OpenFGA store after the service.
_DEPLOYMENT = ("compose.yaml", "deploy/**", "adapters/authz/model.fga.yaml", "tests/integration/test_deploy_files.py")


def rename(text: str, path: str, names: ServiceNames) -> str:
    text = text.replace("blog-service", names.distribution)
    text = text.replace("Blog service", names.display).replace("blog service", names.display.lower())
    if any(_pattern(glob).fullmatch(path) for glob in _DEPLOYMENT):
        text = re.sub(r"\bblog\b(?!\.v1)", names.snake, text)
        text = re.sub(r"\bBlog\b", names.display.removesuffix(" service"), text)
    return text


def _text(path: Path) -> str | None:
    try:
        return path.read_text()
    except UnicodeDecodeError:
        return None


def files_under(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts
    )


def transform(root: Path, names: ServiceNames, removed: frozenset[str]) -> list[str]:
    """Steps 1 and 2 on the files under ``root``; the Python files it changed."""
    changed: list[str] = []
    for path in files_under(root):
        if goes(path, removed):
            (root / path).unlink()
            continue
        text = _text(root / path)
        if text is None:
            continue
        new = strip_regions(text, removed, path=path)
        if path.endswith(".json") and '"only": "' in new:
            new = strip_only_objects(new, removed)
        new = rename(new, path, names)
        if new != text:
            (root / path).write_text(new)
            if path.endswith(".py"):
                changed.append(path)
        if "blog-service" in path:  # a file named after the service (deploy/grafana/blog-service.json)
            (root / path).rename(root / path.replace("blog-service", names.distribution))
    for directory in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if ".git" not in directory.relative_to(root).parts and not any(directory.iterdir()):
            directory.rmdir()
    return changed


def finish(root: Path, names: ServiceNames, removed: frozenset[str]) -> None:
    changed = transform(root, names, removed)
    python = [p for p in changed if (root / p).exists()]
    if python:
        ruff = [sys.executable, "-m", "ruff"]
        # F841's fix is "unsafe" only because it may drop a call's result: it keeps the call itself.
        fix = ["check", "--quiet", "--fix", "--unsafe-fixes", "--select", "I,F401,F841"]
        run([*ruff, *fix, *python], root, "ruff")
        run([*ruff, "format", "--quiet", *python], root, "ruff format")
    # The lock follows pyproject (a left-out integration takes its dependencies); from uv's cache
    # when it has every package, else from the index.
    if subprocess.run(["uv", "lock", "--offline", "--quiet"], cwd=root, check=False).returncode != 0:
        run(["uv", "lock", "--quiet"], root, "uv lock")


def main(argv: Sequence[str]) -> int:
    name, without = argv
    try:
        finish(Path.cwd(), ServiceNames.of(name), left_out(without.split(",")))
    except Refused as refusal:
        print(f"new-service: {refusal}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
