#!/bin/sh
# The production server: Granian serving app.main:app (or the ASGI app named as the first
# argument: the benchmark serves its ceiling this way). `just serve` and the image's CMD run this
# file, so both serve with the same settings. It ends by exec'ing Granian, which thus receives
# SIGTERM itself (in the image it is PID 1): it lets in-flight requests finish, then runs the
# lifespan shutdown hooks (the pool closes); a worker still busy GRANIAN_WORKERS_KILL_TIMEOUT (20 s)
# after SIGTERM is killed. --log-config makes Granian's own lines structured too.
#
# Connections (docs/operations.md, "Slow and hostile clients"; every value can be overridden with
# Granian's own variable name):
# - --http 1: HTTP/1.1 only. With `auto`, a connection that never sends a byte is held forever
#   (the HTTP/2 preface detection has no timeout); with `1` the header-read timeout covers it.
# - --http1-header-read-timeout 5000 ms: the whole header block must arrive within 5 s of the
#   connection opening or of the previous response (so it is also the keep-alive idle timeout).
# - --backpressure: connections each worker holds at once (default 4096). A slow or idle socket
#   costs a slot and ~15 kB, not a request's work; past the limit, new connections wait in the
#   kernel's queue (--backlog 1024) until one closes. It must stay below the open-file limit, or
#   accept() fails and Granian's accept loop spins: the soft limit is raised to the hard one, and
#   the default is lowered to fit under it.
#
# Metrics add up over the workers (app/metrics.py, docs/observability.md): each worker writes its
# values to files in PROMETHEUS_MULTIPROC_DIR and a scrape of /metrics reads them all. The directory
# (by default one per port under $TMPDIR: the image's root is read-only, /tmp is not) is emptied of
# the last run's files here, before any worker starts, so the counters start at zero.
set -eu

PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/blog-service-metrics-${PORT:-8000}}
export PROMETHEUS_MULTIPROC_DIR
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db

# -n and -H are not POSIX, but dash (Debian's sh, the image's), bash and busybox all have them.
# shellcheck disable=SC3045
ulimit -n "$(ulimit -H -n)" 2>/dev/null || true
# shellcheck disable=SC3045
files=$(ulimit -n)
backpressure=${GRANIAN_BACKPRESSURE:-4096}
if [ "$files" != unlimited ] && [ -z "${GRANIAN_BACKPRESSURE:-}" ] && [ "$files" -lt $((backpressure + 128)) ]; then
    backpressure=$((files - 128))
fi

exec granian --interface asgi --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-1}" --no-ws \
    --http "${GRANIAN_HTTP:-1}" \
    --http1-header-read-timeout "${GRANIAN_HTTP1_HEADER_READ_TIMEOUT:-5000}" \
    --backlog "${GRANIAN_BACKLOG:-1024}" \
    --backpressure "$backpressure" \
    --log-config app/granian-logging.json \
    --workers-kill-timeout "${GRANIAN_WORKERS_KILL_TIMEOUT:-20}" \
    "${1:-app.main:app}"
