#!/bin/sh
# Papishares container entrypoint: one image, two roles, chosen by the first argument.
#
#   dashboard [FLAGS]     `papishares dashboard`: the pages and the JSON API on $STREAMLIT_SERVER_PORT (8501)
#   worker [--once ...]   the sidecar worker (python -m papishares worker ...)
#   healthcheck [ROLE]    checks the role this container started as (or ROLE): the dashboard's
#                         /_stcore/health, or the worker's heartbeat via `papishares health`
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
    # python's urllib, so the image needs no curl; one line out, never a traceback.
    exec python - <<'PY'
import os
import sys
import urllib.request

port = os.environ.get("STREAMLIT_SERVER_PORT") or "8501"
prefix = (os.environ.get("STREAMLIT_SERVER_BASE_URL_PATH") or "").strip("/")
url = f"http://127.0.0.1:{port}/" + (prefix + "/" if prefix else "") + "_stcore/health"
try:
    with urllib.request.urlopen(url, timeout=5) as response:
        body = response.read(64).strip()
        ok = response.status == 200 and body == b"ok"
except Exception as exc:  # any failure is simply "unhealthy"
    print(f"dashboard unhealthy: {url}: {type(exc).__name__}")
    sys.exit(1)
print("dashboard healthy" if ok else f"dashboard unhealthy: {url} answered {body!r}")
sys.exit(0 if ok else 1)
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
