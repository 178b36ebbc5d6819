#!/bin/sh
# Papishares container entrypoint: one image, two roles, chosen by the first argument.
#
#   dashboard [FLAGS]     `papishares dashboard`: the pages and the JSON API on $STREAMLIT_SERVER_PORT (8501)
#   worker [--once ...]   the sidecar worker (python -m papishares worker ...)
#   healthcheck [ROLE]    checks the role this container started as (or ROLE): the dashboard's
#                         /readyz (200 "ready"), or the worker's heartbeat via `papishares health`
#   anything else         a papishares command: snapshot --json, health, autosell status, ...
#
# Installed as /usr/local/bin/papishares-entrypoint and, as a link, /usr/local/bin/papishares:
# called by that name it is simply the papishares CLI.
set -eu

self=$(readlink -f "$0")
# The app directory: /app in the image (PAPISHARES_APP_DIR), the repository root when run from a checkout.
app_dir="${PAPISHARES_APP_DIR:-$(dirname "$(dirname "$(dirname "$self")")")}"
# A home the app can write (Streamlit's and yfinance's caches). A runtime that mounts the home's tmpfs
# owned by root (podman 4.3 ignores the tmpfs mode) gets one under /tmp instead.
if [ -n "${HOME:-}" ] && [ -d "$HOME" ] && ! [ -w "$HOME" ]; then
    HOME="${TMPDIR:-/tmp}/papishares-home"
    export HOME
    mkdir -p "$HOME" 2>/dev/null || true
fi
# Remembered so that the image's HEALTHCHECK (a separate process) knows what to check.
role_file="${TMPDIR:-/tmp}/papishares.role"

remember_role() {
    # Best effort: a read-only /tmp must not stop the app, only the generic healthcheck.
    printf '%s\n' "$1" > "$role_file" 2>/dev/null || true
}

dashboard_health() {
    # The JSON API's readiness probe, as the Helm chart's: 200 {"status": "ready"} once the configuration
    # is valid and the database opens, else 503 with the reason. Nothing else counts: Streamlit answers
    # any other path with its page (200, HTML), so the answer must be the probe's JSON. `papishares
    # dashboard` serves the probe at the root whatever STREAMLIT_SERVER_BASE_URL_PATH says.
    # python's urllib, so the image needs no curl; one line out, never a traceback.
    exec python - <<'PY'
import json
import os
import sys
import urllib.error
import urllib.request

port = os.environ.get("STREAMLIT_SERVER_PORT") or "8501"
url = f"http://127.0.0.1:{port}/readyz"
try:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            status, body = response.status, response.read(4096)
    except urllib.error.HTTPError as err:  # 503 carries the reason in its body
        status, body = err.code, err.read(4096)
        err.close()
except Exception as exc:  # any failure is simply "unhealthy"
    print(f"dashboard unhealthy: {url}: {type(exc).__name__}")
    sys.exit(1)
try:
    answer = json.loads(body)
except ValueError:
    answer = None
if status == 200 and isinstance(answer, dict) and answer.get("status") == "ready":
    print(f"dashboard healthy: {url} ready")
    sys.exit(0)
if isinstance(answer, dict) and answer.get("reason"):
    said = " ".join(str(answer["reason"]).split())[:300]
else:
    said = repr(body[:64])
print(f"dashboard unhealthy: {url} answered {status}: {said}")
sys.exit(1)
PY
}

if [ "$(basename "$0")" = "papishares" ]; then
    exec python -m papishares "$@"
fi

command="${1:-dashboard}"
if [ "$#" -gt 0 ]; then shift; fi

case "$command" in
    dashboard)
        # Container-friendly Streamlit: no browser, no usage stats, no file watcher, all interfaces.
        : "${STREAMLIT_SERVER_HEADLESS:=true}"
        : "${STREAMLIT_SERVER_ADDRESS:=0.0.0.0}"
        : "${STREAMLIT_SERVER_PORT:=8501}"
        : "${STREAMLIT_SERVER_FILE_WATCHER_TYPE:=none}"
        : "${STREAMLIT_BROWSER_GATHER_USAGE_STATS:=false}"
        export STREAMLIT_SERVER_HEADLESS STREAMLIT_SERVER_ADDRESS STREAMLIT_SERVER_PORT \
            STREAMLIT_SERVER_FILE_WATCHER_TYPE STREAMLIT_BROWSER_GATHER_USAGE_STATS
        remember_role dashboard
        # The pages and the JSON API (/healthz, /readyz, /positions, /api/v1/...) on one port,
        # from the package beside this script.
        PYTHONPATH="$app_dir${PYTHONPATH:+:$PYTHONPATH}"
        export PYTHONPATH
        exec python -m papishares dashboard \
            --address="$STREAMLIT_SERVER_ADDRESS" \
            --port="$STREAMLIT_SERVER_PORT" \
            "$@"
        ;;
    worker)
        remember_role worker
        exec python -m papishares worker "$@"
        ;;
    healthcheck)
        role="${1:-$(cat "$role_file" 2>/dev/null || echo none)}"
        case "$role" in
            dashboard) dashboard_health ;;
            worker) exec python -m papishares health ;;
            *)
                echo "healthcheck: no long-running role started in this container (role: $role)"
                exit 0
                ;;
        esac
        ;;
    papishares)
        exec python -m papishares "$@"
        ;;
    *)
        exec python -m papishares "$command" "$@"
        ;;
esac
