# Recipes for developers and operators. Run them through uv so the project's venv is used:
#   uv run just dev        uv run just test
set dotenv-load := false
set positional-arguments := false

port := env_var_or_default("PORT", "8000")
# buf (protobuf lint and breaking-change check) comes from npm: `npm ci` installs it (package.json)
buf := justfile_directory() / "node_modules/.bin/buf"

# list the recipes
default:
    @just --list

# run the service for development: SQLite under ./var, dev auth, auto-reload, http://127.0.0.1:8000
# (exec: the recipe's shell hands its place to Granian, so a SIGTERM to `uv run just dev` reaches the
# reloader, which stops its worker; a shell left in between would die alone and orphan both.
# --workers-kill-timeout: a worker told to stop while still starting (a reload or a stop racing its
# start-up) misses the signal, and the reloader would wait for it forever; after 5 s it is killed.
# PROMETHEUS_MULTIPROC_DIR: with METRICS_ENABLED=true the counts live in files there, emptied at each
# start as app/serve.sh does, so a reload keeps them: docs/observability.md)
dev:
    python -m app.cli migrate
    @echo ""
    @echo "  Service:   http://127.0.0.1:{{port}}   (docs: http://127.0.0.1:{{port}}/docs)"
    @echo "  Token:     uv run just token alice          (add roles after the name: ... alice admin)"
    @echo "  Try:       curl -H \"Authorization: Bearer \$(uv run just token alice)\" http://127.0.0.1:{{port}}/v1/users/me"
    @if [ -n "${GRPC_PORT:-}" ]; then echo "  gRPC:      ${GRPC_HOST:-127.0.0.1}:${GRPC_PORT}   (docs/grpc.md)"; fi
    @echo ""
    export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${VAR_DIR:-./var}/metrics}" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR" && rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db && \
    GRPC_HOST="${GRPC_HOST:-127.0.0.1}" exec granian --interface asgi --host 127.0.0.1 --port {{port}} --log-config app/granian-logging.json --workers-kill-timeout 5 --reload --reload-paths app --reload-paths domain --reload-paths adapters app.main:app

# run the production server (app/serve.sh, as the image does): Granian, WEB_CONCURRENCY workers, bounded connections; SIGTERM drains
serve:
    @PORT={{port}} exec sh app/serve.sh

# run the whole test suite (PostgreSQL tests too when TEST_DATABASE_URL is set)
test *args:
    pytest {{args}}

# rewrite tests/snapshots/sql/ from the statements in adapters/db/ (review the diff, then commit it)
sql-snapshot:
    python -m tests.support.sql_snapshot

# lint, format check, types, the layer contract, the permission model's tests, the protos (buf), the OpenAPI document, then the dependency audit
lint: && openapi-check audit
    ruff check .
    ruff format --check .
    mypy
    lint-imports
    @# region: openfga
    fga model test --tests adapters/authz/model.fga.yaml
    @# endregion
    @# region: grpc
    @test -x "{{buf}}" || { echo "buf is missing: run \`npm ci\` (package.json)" >&2; exit 1; }
    "{{buf}}" lint
    "{{buf}}" breaking --against proto/baseline.binpb
    @# endregion

# region: grpc
# regenerate app/grpc/gen/ from proto/ (grpcio-tools); commit the result (a test compares them)
gen-proto:
    python proto/generate.py

# take the current protos as the baseline `buf breaking` guards (after a release; see docs/grpc.md)
proto-baseline:
    "{{buf}}" build --exclude-source-info -o proto/baseline.binpb
# endregion

# the OpenAPI document the app serves, judged by real tools: Spectral (spectral:oas, .spectral.yaml) must find
# no error and no warning, and openapi-python-client must generate a client from it without a warning
# (Node tools from package.json: `npm ci` first)
openapi-check:
    #!/usr/bin/env bash
    set -euo pipefail
    out="$(mktemp -d)"
    trap 'rm -rf "$out"' EXIT
    # the defaults, not this machine's .env or Consul: the document CI and clients see
    ENV_FILE=/dev/null CONSUL_URL= LOG_LEVEL=WARNING python -m app.cli openapi "$out/openapi.json"
    npx --no-install spectral lint --ruleset .spectral.yaml --fail-severity warn "$out/openapi.json"
    openapi-python-client generate --path "$out/openapi.json" --output-path "$out/client" \
        --custom-template-path clients/python --config clients/python/config.yaml --fail-on-warning > /dev/null
    echo "openapi-python-client: a client generated without a warning"

# pip-audit of every locked dependency (uv export: a uv venv has no pip); fails on a known vulnerability,
# only reports when the advisory database cannot be reached (offline, or a registry mirror without it)
audit:
    #!/usr/bin/env python3
    import json, subprocess, sys, tempfile
    UNREACHABLE = ("ConnectionError", "ProxyError", "SSLError", "Max retries exceeded", "timed out", "Name or service not known", "name resolution")
    with tempfile.NamedTemporaryFile(suffix=".txt") as requirements:
        export = ["uv", "export", "--frozen", "--all-groups", "--no-emit-project", "--quiet", "--format", "requirements-txt"]
        subprocess.run([*export, "--output-file", requirements.name], check=True)
        audit = subprocess.run(
            ["pip-audit", "--disable-pip", "--requirement", requirements.name, "--format", "json", "--progress-spinner", "off"],
            capture_output=True, text=True,
        )
    if not audit.stdout.lstrip().startswith("{"):
        if any(marker in audit.stderr for marker in UNREACHABLE):
            print("pip-audit: the advisory database could not be reached; dependencies NOT audited", file=sys.stderr)
            sys.exit(0)
        sys.exit(audit.stderr or audit.returncode)
    dependencies = json.loads(audit.stdout)["dependencies"]
    skipped = [d for d in dependencies if "skip_reason" in d]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln["fix_versions"]) or "no fixed release"
            print(f"{dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})")
    if skipped:
        print(f"pip-audit: {len(skipped)} of {len(dependencies)} dependencies could not be audited (no advisory data reachable for them)", file=sys.stderr)
    if vulnerable:
        sys.exit(1)
    print(f"pip-audit: {len(dependencies) - len(skipped)} of {len(dependencies)} dependencies audited, no known vulnerability")

# apply pending database migrations (DATABASE_URL)
migrate:
    python -m app.cli migrate

# print a development bearer token: just token alice [admin ...]
token username *roles:
    @python -m app.cli token {{username}} {{roles}}

# print the effective configuration and where each value came from (secrets redacted)
config:
    @python -m app.cli config

# region: openfga
# deliver the pending permission changes (outbox) to OpenFGA once, then exit
relay:
    python -m app.cli relay

# queue every relationship tuple the database holds (owners, comments' posts, shares, memberships) for OpenFGA (after turning OpenFGA on)
backfill-permissions:
    python -m app.cli backfill-permissions
# endregion

# region: blog
# reset the unfiltered listings' row counts from the tables (PostgreSQL; after a restore or a load with triggers off)
recount:
    python -m app.cli recount
# endregion

# region: openfga
# print the OpenFGA authorization model as JSON, for uploading (fga model write / the API)
fga-model:
    @fga model transform --file adapters/authz/model.fga --output-format json
# endregion

# maintenance mode through the database (same effect as PATCH /v1/service-context): just maintenance on|off|status
maintenance state:
    @python -m app.cli maintenance {{state}}

# the whole stack in containers (PostgreSQL, Keycloak, the integrations' servers, the app, collector, Jaeger, Prometheus, Grafana): COMPOSE="podman compose" for Podman
up *args:
    ${COMPOSE:-docker compose} up -d --build {{args}}

# stop the stack (add -v to drop its databases)
down *args:
    ${COMPOSE:-docker compose} down {{args}}

# region: blog
# benchmark the service against its bare ceiling on a seeded PostgreSQL (needs wrk: apt-get install -y wrk); --soak adds a 60 s RSS run
bench *args:
    python -m benchmarks.bench {{args}}
# endregion

# write a whole resource shaped like posts: just new-resource tags name:str:max=50:unique (docs/adding-a-resource.md)
new-resource name *fields:
    python -m scaffold.new_resource {{name}} {{fields}}
# region: template

# a new project from this one: just new-service ../orders --name orders [--without openfga,consul,webhook,blog,grpc] (docs/new-service.md)
new-service dest *args:
    python -m scaffold.new_service {{dest}} {{args}}
# endregion
