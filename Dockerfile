# Papishares: one image for both roles, picked by the command:
#   docker run ... papishares:local dashboard      (the default)
#   docker run ... papishares:local worker [--once|--dry-run]
#   docker run ... papishares:local snapshot --json   (any papishares command)
# No secret is baked in: credentials come from the environment at run time (.env is never copied).

# cgt-calc (the History page's UK capital gains) needs Python 3.12+, the app runs on 3.11: uv fetches
# a relocatable CPython 3.12 (python-build-standalone) and builds cgt-calc's own virtualenv, copied
# below at the same paths.
FROM python:3.11.13-slim-bookworm AS cgt
ENV UV_PYTHON_INSTALL_DIR=/opt/uv-python \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
COPY requirements-cgt.txt constraints-cgt.txt /tmp/
RUN pip install --no-cache-dir uv==0.13.9 \
    && uv python install 3.12.16 \
    && uv venv --python 3.12.16 /opt/cgt \
    && uv pip install --no-cache --compile-bytecode --python /opt/cgt/bin/python -r /tmp/requirements-cgt.txt -c /tmp/constraints-cgt.txt \
    && /opt/cgt/bin/cgt-calc --version

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

COPY --from=cgt /opt/uv-python /opt/uv-python
COPY --from=cgt /opt/cgt /opt/cgt

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
    PAPISHARES_CGT_CALC=/opt/cgt/bin/cgt-calc \
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
