#!/bin/sh
# One-shot OpenFGA bootstrap for compose.yaml (service `openfga-init`).
#
#  1. finds the store named $FGA_STORE_NAME (default "blog"), or creates it the first time, so the
#     tuples written by earlier runs are kept across restarts (OpenFGA's data lives in Postgres);
#  2. uploads $MODEL_FILE (adapters/authz/model.fga, DSL) as a new authorization model unless the
#     store's latest model already has the same content;
#  3. publishes both ids in Consul KV, in one transaction, as ${CONSUL_PREFIX}OPENFGA_STORE_ID and
#     ${CONSUL_PREFIX}OPENFGA_MODEL_ID. The app reads Consul KV over its environment, so it gets
#     the ids at start-up and picks up a new model id while running.
#
# Needs: sh, curl, jq and the `fga` CLI (the compose tools image has all four).
# Environment: FGA_API_URL (required; read by fga), FGA_API_TOKEN (optional; read by fga),
#   CONSUL_URL (required), CONSUL_TOKEN (optional), CONSUL_PREFIX (default "app/"),
#   FGA_STORE_NAME (default "blog"), MODEL_FILE (default /model.fga).
# Idempotent: running it again changes nothing when the model file has not changed.
set -eu

: "${FGA_API_URL:?FGA_API_URL must point at the OpenFGA HTTP API, e.g. http://openfga:8080}"
: "${CONSUL_URL:?CONSUL_URL must point at Consul, e.g. http://consul:8500}"
STORE_NAME="${FGA_STORE_NAME:-blog}"
MODEL_FILE="${MODEL_FILE:-/model.fga}"
CONSUL_PREFIX="${CONSUL_PREFIX:-app/}"
CONSUL_URL="${CONSUL_URL%/}"

log() { printf 'openfga-init: %s\n' "$*" >&2; }

# require_ulid WHAT VALUE CONTEXT: stop unless VALUE looks like an OpenFGA id (26 Crockford
# base-32 characters), so that an unexpected answer is never published to the app.
require_ulid() {
  if [ "${#2}" -eq 26 ] && [ -z "$(printf '%s' "$2" | tr -d '0-9A-HJKMNP-TV-Z')" ]; then
    return 0
  fi
  log "no valid $1 from fga (got '$2'): $3"
  exit 1
}

[ -r "$MODEL_FILE" ] || { log "model file $MODEL_FILE is missing or unreadable"; exit 1; }

# Canonical form of a model for comparison (with `jq -S`): no id, no source positions, no nulls.
normalize='{schema_version, type_definitions, conditions: (.conditions // {})}
  | walk(if type == "object" then with_entries(select(.value != null)) | del(.source_info, .module)
         else . end)'

# 1. the store ------------------------------------------------------------------------------
# (fga's output is captured before jq reads it: with `set -e`, a failing fga stops the script,
# which it would not do at the head of a pipeline.)
stores="$(fga store list --name "$STORE_NAME")"
store_id="$(printf '%s' "$stores" | jq -r '[.stores[]?] | sort_by(.created_at // "") | .[0].id // empty')"
if [ -z "$store_id" ]; then
  created="$(fga store create --name "$STORE_NAME")"
  store_id="$(printf '%s' "$created" | jq -r '.store.id // empty')"
  require_ulid "store id" "$store_id" "$created"
  log "created store $STORE_NAME ($store_id)"
else
  require_ulid "store id" "$store_id" "$stores"
  log "using existing store $STORE_NAME ($store_id)"
fi

# 2. the model ------------------------------------------------------------------------------
transformed="$(fga model transform --file "$MODEL_FILE" --output-format json)"
wanted="$(printf '%s' "$transformed" | jq -cS "$normalize")"
latest="$(fga model get --store-id "$store_id" --format json --field id --field model 2>/dev/null || true)"
model_id=""
if [ -n "$latest" ] && [ "$(printf '%s' "$latest" | jq -cS "$normalize" 2>/dev/null)" = "$wanted" ]; then
  model_id="$(printf '%s' "$latest" | jq -r '.id // empty')"
fi
if [ -n "$model_id" ]; then
  log "latest model $model_id already matches $MODEL_FILE"
else
  written="$(fga model write --store-id "$store_id" --file "$MODEL_FILE")"
  model_id="$(printf '%s' "$written" | jq -r '.authorization_model_id // empty')"
  require_ulid "model id" "$model_id" "$written"
  log "wrote model $model_id"
fi

# 3. Consul KV (one transaction, so a reader never sees a new store with an old model) ------
txn="$(jq -cn \
  --arg sk "${CONSUL_PREFIX}OPENFGA_STORE_ID" --arg sv "$store_id" \
  --arg mk "${CONSUL_PREFIX}OPENFGA_MODEL_ID" --arg mv "$model_id" \
  '[{KV: {Verb: "set", Key: $sk, Value: ($sv | @base64)}},
    {KV: {Verb: "set", Key: $mk, Value: ($mv | @base64)}}]')"
set -- -fsS --retry 5 --retry-connrefused --retry-delay 2 -X PUT \
  -H 'Content-Type: application/json' --data-binary "$txn" "$CONSUL_URL/v1/txn"
if [ -n "${CONSUL_TOKEN:-}" ]; then
  set -- -H "X-Consul-Token: $CONSUL_TOKEN" "$@"
fi
curl "$@" >/dev/null
log "published ${CONSUL_PREFIX}OPENFGA_STORE_ID=$store_id ${CONSUL_PREFIX}OPENFGA_MODEL_ID=$model_id"
