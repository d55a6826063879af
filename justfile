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
    granian --interface asgi --host 127.0.0.1 --port {{port}} --reload --reload-paths app --reload-paths domain --reload-paths adapters app.main:app

# run the production server: Granian, ASGI, WEB_CONCURRENCY workers
serve:
    exec granian --interface asgi --host "${HOST:-0.0.0.0}" --port {{port}} --workers "${WEB_CONCURRENCY:-1}" --no-ws app.main:app

# run the whole test suite (PostgreSQL tests too when TEST_DATABASE_URL is set)
test *args:
    pytest {{args}}

# lint, format check, types, the layer contract
lint:
    ruff check .
    ruff format --check .
    mypy
    lint-imports

# apply pending database migrations (DATABASE_URL)
migrate:
    python -m app.cli migrate

# print a development bearer token: just token alice [admin ...]
token username *roles:
    @python -m app.cli token {{username}} {{roles}}

# print the effective configuration and where each value came from (secrets redacted)
config:
    @python -m app.cli config
