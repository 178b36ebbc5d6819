# Papishares: one image for both roles, picked by the command:
#   docker run ... papishares:local dashboard      (the default)
#   docker run ... papishares:local worker [--once|--dry-run]
#   docker run ... papishares:local snapshot --json   (any papishares command)
# No secret is baked in: credentials come from the environment at run time (.env is never copied).
#
# The base images are build arguments defaulting to the official ones; any image with the same
# layout (CPython in /usr/local on Debian bookworm) will do, e.g. a mirror's copy.
# pip's own settings (a private index, a proxy's CA) can be handed to the build as secrets, which
# never reach a layer:  docker build --secret id=pip.conf,src=$HOME/.config/pip/pip.conf
#                                   [--secret id=pip-ca.pem,src=/path/to/ca.pem] .
# (a pip.conf naming `cert = /run/secrets/pip-ca.pem` uses the second one).
ARG PYTHON_BASE=python:3.11.13-slim-bookworm
ARG CGT_PYTHON_BASE=python:3.12.11-slim-bookworm

# cgt-calc (the History page's UK capital gains) needs Python 3.12+, the app runs on 3.11: this stage
# builds cgt-calc's own virtualenv on the 3.12 base, from PyPI only, and gathers it with its
# interpreter under /stage, copied into the image as it lies (/usr/local/bin/python3.12, its standard
# library, /opt/cgt).
FROM ${CGT_PYTHON_BASE} AS cgt
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
COPY requirements-cgt.txt constraints-cgt.txt /tmp/
RUN --mount=type=secret,id=pip.conf,target=/etc/pip.conf \
    --mount=type=secret,id=pip-ca.pem \
    python3.12 -m venv --without-pip /opt/cgt \
    && python3.12 -m pip --python /opt/cgt/bin/python install --no-cache-dir --no-compile \
        -r /tmp/requirements-cgt.txt -c /tmp/constraints-cgt.txt \
    && /opt/cgt/bin/cgt-calc --version \
    && mkdir -p /stage/usr/local/bin /stage/usr/local/lib /stage/opt \
    && cp -a /usr/local/bin/python3.12 /stage/usr/local/bin/ \
    && cp -a /usr/local/lib/python3.12 /usr/local/lib/libpython3.12.so.1.0 /stage/usr/local/lib/ \
    && rm -rf /stage/usr/local/lib/python3.12/site-packages/* /stage/usr/local/lib/python3.12/ensurepip \
    && mv /opt/cgt /stage/opt/cgt

FROM ${PYTHON_BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# A fixed numeric uid/gid: Kubernetes' runAsNonRoot can verify it, and the Helm chart's
# runAsUser/fsGroup (10001) match it. Debian's headless Chromium (no X, no GTK) renders the
# Telegram /chart picture through plotly's kaleido; Debian's security updates replace its version,
# so it is not pinned (the pin would break the build at the next update).
# hadolint ignore=DL3008
RUN groupadd --system --gid 10001 papishares \
    && useradd --system --no-log-init --uid 10001 --gid 10001 \
        --home-dir /home/papishares --create-home --shell /usr/sbin/nologin papishares \
    && mkdir -p /data \
    && chown 10001:10001 /data \
    && apt-get update \
    && apt-get install -y --no-install-recommends chromium-headless-shell fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb

WORKDIR /app

# Pinned dependencies first, so a code change does not reinstall them (layer cache).
COPY requirements.txt constraints.txt ./
RUN --mount=type=secret,id=pip.conf,target=/etc/pip.conf \
    --mount=type=secret,id=pip-ca.pem \
    pip install --no-cache-dir -r requirements.txt -c constraints.txt

COPY --from=cgt /stage/ /

# The code (what .dockerignore lets through: the package, the pages, the entrypoint), owned by
# root and so read-only for the app user.
COPY . .
# Bytecode compiled now: at run time the root filesystem may be read-only (PYTHONDONTWRITEBYTECODE).
# ldconfig finds cgt-calc's libpython3.12 in /usr/local/lib.
RUN python -m compileall -q /app/papishares /app/Home.py /app/pages \
    && ldconfig \
    && /opt/cgt/bin/cgt-calc --version \
    && chmod 0755 /app/deploy/docker/entrypoint.sh \
    && ln -s /app/deploy/docker/entrypoint.sh /usr/local/bin/papishares-entrypoint \
    && ln -s /app/deploy/docker/entrypoint.sh /usr/local/bin/papishares

ENV PYTHONPATH=/app \
    PAPISHARES_APP_DIR=/app \
    HOME=/home/papishares \
    DB_PATH=/data/papishares.db \
    PAPISHARES_CGT_CALC=/opt/cgt/bin/cgt-calc \
    BROWSER_PATH=/usr/lib/chromium/chromium-headless-shell \
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
