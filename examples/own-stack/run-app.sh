#!/usr/bin/env bash
# The app under rehearsal for docs/own-stack.md: pretalx 2025.2.2 (a conference CfP web app)
# with its sessions and cache in Redis, run from pinned PyPI packages and Debian's redis-server.
#
#   run-app.sh setup   venv (cached), database, static files, an organiser account
#   run-app.sh start   redis-server on 127.0.0.1:$REDIS_PORT, pretalx on 127.0.0.1:$WEB_PORT
#   run-app.sh stop    stop both (by the pids this script recorded)
#
# pretalx reads its Redis URL once, at start: it is pointed at 127.0.0.1:16379, the fixed listen
# address of the `redis_sessions` proxy, which exists only while `peakday run` runs. Outside a
# run that address refuses connections (see docs/own-stack.md for what pretalx does then).
# Loopback only; every wait is bounded.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="${PRETALX_VENV:-$REPO/.tools/pretalx-venv}"
STATE="${OWN_STACK_STATE:-$REPO/.tools/own-stack}"   # database, static files, logs, pids
REDIS_PORT="${REDIS_PORT:-16380}"                     # the real Redis
SESSIONS_ADDR="${SESSIONS_ADDR:-127.0.0.1:16379}"     # the proxy pretalx is pointed at
WEB_PORT="${WEB_PORT:-18000}"
ORGANISER_EMAIL="${ORGANISER_EMAIL:-organiser@example.org}"
ORGANISER_PASSWORD="${ORGANISER_PASSWORD:-rehearsal-only-password}"
PYTHON="${PYTHON:-python3}"

export PRETALX_DATA_DIR="$STATE/data"
export PRETALX_FILESYSTEM_STATIC="$STATE/static"
export PRETALX_SITE_URL="http://127.0.0.1:$WEB_PORT"
export PRETALX_DEBUG=False
export PRETALX_REDIS="redis://$SESSIONS_ADDR/0"
export PRETALX_REDIS_SESSIONS=True

log() { printf 'run-app: %s\n' "$*" >&2; }

wait_until() { # wait_until SECONDS WHAT COMMAND...
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "error: $what did not happen within ${limit}s; logs in $STATE/*.log"
      return 1
    fi
    sleep 0.2
  done
}

answers() { "$VENV/bin/python" - "$1" <<'EOF'
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=2).read()
except urllib.error.HTTPError:
    pass  # any HTTP answer means gunicorn serves; without its Redis pretalx may answer 500
EOF
}

setup() {
  command -v redis-server >/dev/null || { log "error: redis-server is not installed (Debian: apt-get install redis-server)"; exit 3; }
  local wanted="$VENV/.requirements"
  if ! cmp -s "$HERE/requirements.txt" "$wanted"; then   # cached: reinstalled only when the pins change
    log "creating $VENV from requirements.txt (about 30-60 s, once)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    timeout 600 "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
    cp "$HERE/requirements.txt" "$wanted"
  fi
  mkdir -p "$PRETALX_DATA_DIR" "$PRETALX_FILESYSTEM_STATIC"
  if [ ! -e "$STATE/.ready" ]; then
    log "database, static files and the organiser account in $STATE"
    # Management commands touch the cache: give them the real Redis (no proxy exists yet).
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
      --daemonize yes --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log"
    wait_until 10 "redis-server answering on :$REDIS_PORT" redis-cli -p "$REDIS_PORT" ping
    (
      export PRETALX_REDIS="redis://127.0.0.1:$REDIS_PORT/0"
      timeout 300 "$VENV/bin/python" -m pretalx migrate --noinput >"$STATE/setup.log" 2>&1
      timeout 300 "$VENV/bin/python" -m pretalx collectstatic --noinput >>"$STATE/setup.log" 2>&1
      DJANGO_SUPERUSER_EMAIL="$ORGANISER_EMAIL" DJANGO_SUPERUSER_PASSWORD="$ORGANISER_PASSWORD" \
        timeout 120 "$VENV/bin/python" -m pretalx createsuperuser --noinput >>"$STATE/setup.log" 2>&1
    ) || { log "error: pretalx set-up failed, see $STATE/setup.log"; stop_pid redis; exit 3; }
    stop_pid redis
    touch "$STATE/.ready"
  fi
}

stop_pid() { # stop_pid NAME: TERM the recorded pid if it is still ours, KILL after 10 s
  local file="$STATE/$1.pid" pid
  [ -s "$file" ] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null && grep -qa -e redis-server -e gunicorn "/proc/$pid/cmdline"; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

start() {
  [ -e "$STATE/.ready" ] || setup
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --daemonize yes --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log"
  wait_until 10 "redis-server answering on :$REDIS_PORT" redis-cli -p "$REDIS_PORT" ping
  redis-cli -p "$REDIS_PORT" flushall >/dev/null   # no sessions or cache from an earlier run
  "$VENV/bin/gunicorn" pretalx.wsgi --bind "127.0.0.1:$WEB_PORT" --workers 2 --threads 8 --timeout 30 \
    --graceful-timeout 5 --daemon --pid "$STATE/gunicorn.pid" \
    --error-logfile "$STATE/gunicorn.log" --access-logfile "$STATE/access.log"
  wait_until 60 "pretalx answering on :$WEB_PORT" answers "http://127.0.0.1:$WEB_PORT/orga/login/"
  log "pretalx on http://127.0.0.1:$WEB_PORT (sessions and cache: redis://$SESSIONS_ADDR)," \
    "redis-server on 127.0.0.1:$REDIS_PORT"
}

stop() {
  stop_pid gunicorn
  stop_pid redis
}

case "${1:-}" in
  setup) setup ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 setup|start|stop" >&2; exit 2 ;;
esac
