#!/bin/sh
# Registers (or updates) the Phase Two keycloak-events webhook that keeps the blog's users in sync.
# Run by compose.yaml (service `keycloak-webhook`) once Keycloak is healthy; safe to run again.
#
# Why a script: Phase Two webhooks are entities of the keycloak-events extension, managed through
# its REST resource (/realms/{realm}/webhooks); a realm import file cannot carry them.
#
#  1. gets an admin token from the master realm (admin-cli, password grant);
#  2. makes sure the realm's event listeners include `ext-event-webhook` and that admin events
#     are on with representations (the realm import sets all this already; this covers a realm
#     created before the import file was, because Keycloak skips importing an existing realm);
#  3. creates the webhook, or updates the one with the same URL (so a changed secret or event
#     list is applied: Phase Two never returns the secret, so the script always writes it).
#
# Phase Two signs each delivery: X-Keycloak-Signature = hex HMAC-SHA256 of the body with the
# secret, and retries with exponential back-off until it gets a 2xx.
#
# Needs: sh, curl, jq. Environment:
#   KEYCLOAK_URL            default http://keycloak:8080
#   KEYCLOAK_REALM          default demo
#   KEYCLOAK_ADMIN          default admin
#   KEYCLOAK_ADMIN_PASSWORD required
#   KEYCLOAK_WEBHOOK_SECRET required (the app's KEYCLOAK_WEBHOOK_SECRET)
#   WEBHOOK_URL             default http://app:8000/v1/authentication/webhook/events-synchronization
#   WEBHOOK_EVENT_TYPES     comma-separated Phase Two event types (regular expressions allowed),
#                           default admin.USER-CREATE,admin.USER-UPDATE,admin.USER-DELETE,admin.GROUP_MEMBERSHIP-CREATE,admin.GROUP_MEMBERSHIP-DELETE,admin.GROUP-CREATE,admin.GROUP-UPDATE,admin.GROUP-DELETE
set -eu

KEYCLOAK_URL="${KEYCLOAK_URL:-http://keycloak:8080}"
KEYCLOAK_URL="${KEYCLOAK_URL%/}"
REALM="${KEYCLOAK_REALM:-demo}"
ADMIN_USER="${KEYCLOAK_ADMIN:-admin}"
: "${KEYCLOAK_ADMIN_PASSWORD:?KEYCLOAK_ADMIN_PASSWORD is required}"
: "${KEYCLOAK_WEBHOOK_SECRET:?KEYCLOAK_WEBHOOK_SECRET is required}"
WEBHOOK_URL="${WEBHOOK_URL:-http://app:8000/v1/authentication/webhook/events-synchronization}"
EVENT_TYPES="${WEBHOOK_EVENT_TYPES:-admin.USER-CREATE,admin.USER-UPDATE,admin.USER-DELETE,admin.GROUP_MEMBERSHIP-CREATE,admin.GROUP_MEMBERSHIP-DELETE,admin.GROUP-CREATE,admin.GROUP-UPDATE,admin.GROUP-DELETE}"

log() { printf 'keycloak-webhook: %s\n' "$*" >&2; }

# 1. admin token ------------------------------------------------------------------------------
token="$(curl -fsS --retry 10 --retry-connrefused --retry-delay 3 \
  --data-urlencode grant_type=password \
  --data-urlencode client_id=admin-cli \
  --data-urlencode "username=$ADMIN_USER" \
  --data-urlencode "password=$KEYCLOAK_ADMIN_PASSWORD" \
  "$KEYCLOAK_URL/realms/master/protocol/openid-connect/token" | jq -er '.access_token')"

# api METHOD PATH [JSON-BODY]: an authenticated call; the response body goes to stdout.
api() {
  if [ "$#" -ge 3 ]; then
    curl -fsS -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      --data-binary "$3" "$KEYCLOAK_URL$2"
  else
    curl -fsS -X "$1" -H "Authorization: Bearer $token" "$KEYCLOAK_URL$2"
  fi
}

# 2. realm event settings ---------------------------------------------------------------------
events="$(api GET "/admin/realms/$REALM/events/config")"
wanted_events="$(printf '%s' "$events" | jq -c '
  .eventsListeners = ((.eventsListeners // []) + ["ext-event-webhook"] | unique)
  | .adminEventsEnabled = true
  | .adminEventsDetailsEnabled = true')"
if [ "$(printf '%s' "$events" | jq -cS .)" != "$(printf '%s' "$wanted_events" | jq -cS .)" ]; then
  api PUT "/admin/realms/$REALM/events/config" "$wanted_events" >/dev/null
  log "enabled ext-event-webhook and admin events (with representations) in realm $REALM"
fi

# 3. the webhook ------------------------------------------------------------------------------
body="$(jq -cn --arg url "$WEBHOOK_URL" --arg secret "$KEYCLOAK_WEBHOOK_SECRET" \
  --arg types "$EVENT_TYPES" \
  '{enabled: true, url: $url, secret: $secret,
    eventTypes: ($types | split(",") | map(gsub("^ +| +$"; "")) | map(select(length > 0)))}')"
existing="$(api GET "/realms/$REALM/webhooks" \
  | jq -r --arg url "$WEBHOOK_URL" '[.[] | select(.url == $url)][0].id // empty')"
if [ -n "$existing" ]; then
  api PUT "/realms/$REALM/webhooks/$existing" "$body" >/dev/null
  log "updated webhook $existing -> $WEBHOOK_URL (realm $REALM, events $EVENT_TYPES)"
else
  api POST "/realms/$REALM/webhooks" "$body" >/dev/null
  log "created webhook -> $WEBHOOK_URL (realm $REALM, events $EVENT_TYPES)"
fi
