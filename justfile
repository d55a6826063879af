# Recipes for developers and operators. Run them through uv so the project's venv is used:
#   uv run just dev        uv run just test
set dotenv-load := false
set positional-arguments := false

port := env_var_or_default("PORT", "8000")

# list the recipes
default:
    @just --list

# run the service for development: SQLite under ./var, dev auth, auto-reload, http://127.0.0.1:8000
dev:
    python -m app.cli migrate
    @echo ""
    @echo "  Service:   http://127.0.0.1:{{port}}   (docs: http://127.0.0.1:{{port}}/docs)"
    @echo "  Token:     uv run just token alice          (add roles after the name: ... alice admin)"
    @echo "  Try:       curl -H \"Authorization: Bearer \$(uv run just token alice)\" http://127.0.0.1:{{port}}/v1/users/me"
    @echo ""
    granian --interface asgi --host 127.0.0.1 --port {{port}} --log-config app/granian-logging.json --reload --reload-paths app --reload-paths domain --reload-paths adapters app.main:app

# run the production server: Granian, ASGI, WEB_CONCURRENCY workers, structured logs; SIGTERM drains (bounded)
serve:
    @exec granian --interface asgi --host "${HOST:-0.0.0.0}" --port {{port}} --workers "${WEB_CONCURRENCY:-1}" --no-ws --log-config app/granian-logging.json --workers-kill-timeout "${GRANIAN_WORKERS_KILL_TIMEOUT:-20}" app.main:app

# run the whole test suite (PostgreSQL tests too when TEST_DATABASE_URL is set)
test *args:
    pytest {{args}}

# lint, format check, types, the layer contract
lint:
    ruff check .
    ruff format --check .
    mypy
    lint-imports
    fga model test --tests adapters/authz/model.fga.yaml

# apply pending database migrations (DATABASE_URL)
migrate:
    python -m app.cli migrate

# print a development bearer token: just token alice [admin ...]
token username *roles:
    @python -m app.cli token {{username}} {{roles}}

# print the effective configuration and where each value came from (secrets redacted)
config:
    @python -m app.cli config

# deliver the pending permission changes (outbox) to OpenFGA once, then exit
relay:
    python -m app.cli relay

# print the OpenFGA authorization model as JSON, for uploading (fga model write / the API)
fga-model:
    @fga model transform --file adapters/authz/model.fga --output-format json

# maintenance mode through the database (same effect as PATCH /v1/service-context): just maintenance on|off|status
maintenance state:
    @python -m app.cli maintenance {{state}}

# the whole stack in containers (PostgreSQL, Keycloak, OpenFGA, Consul, the app): COMPOSE="podman compose" for Podman
up *args:
    ${COMPOSE:-docker compose} up -d --build {{args}}

# stop the stack (add -v to drop its databases)
down *args:
    ${COMPOSE:-docker compose} down {{args}}

# benchmark the service against its bare ceiling on a seeded PostgreSQL (needs wrk: apt-get install -y wrk); --soak adds a 60 s RSS run
bench *args:
    python -m benchmarks.bench {{args}}
