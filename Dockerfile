# Papishares: one image for both roles, picked by the command:
#   docker run ... papishares:local dashboard      (the default)
#   docker run ... papishares:local worker [--once|--dry-run]
#   docker run ... papishares:local snapshot --json   (any papishares command)
# No secret is baked in: credentials come from the environment at run time (.env is never copied).
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# A fixed numeric uid/gid: Kubernetes' runAsNonRoot can verify it, and the Helm chart's
# runAsUser/fsGroup (10001) match it.
RUN groupadd --system --gid 10001 papishares \
    && useradd --system --no-log-init --uid 10001 --gid 10001 \
        --home-dir /home/papishares --create-home --shell /usr/sbin/nologin papishares \
    && mkdir -p /data \
    && chown 10001:10001 /data

WORKDIR /app

# Pinned dependencies first, so a code change does not reinstall them (layer cache).
COPY requirements.txt constraints.txt ./
RUN pip install --no-cache-dir -r requirements.txt -c constraints.txt

# The code (what .dockerignore lets through: the package, the pages, the entrypoint), owned by
# root and so read-only for the app user.
COPY . .
# Bytecode compiled now: at run time the root filesystem may be read-only (PYTHONDONTWRITEBYTECODE).
RUN python -m compileall -q /app/papishares \
    && chmod 0755 /app/deploy/docker/entrypoint.sh \
    && ln -s /app/deploy/docker/entrypoint.sh /usr/local/bin/papishares-entrypoint \
    && ln -s /app/deploy/docker/entrypoint.sh /usr/local/bin/papishares

ENV PYTHONPATH=/app \
    PAPISHARES_APP_DIR=/app \
    HOME=/home/papishares \
    DB_PATH=/data/papishares.db \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

# The one SQLite file shared by dashboard and worker lives here.
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8501

# Checks whichever role this container runs: the dashboard's /_stcore/health (python urllib),
# or the worker's heartbeat (`papishares health`). start-period covers the first worker cycle.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["papishares-entrypoint", "healthcheck"]

ENTRYPOINT ["papishares-entrypoint"]
CMD ["dashboard"]
