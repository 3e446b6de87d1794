# syntax=docker/dockerfile:1
# One image per service, built from the uv workspace: `docker build --target identity -t icsuite/identity .`
# (targets: identity, interactions, callbacks, followups, alerts, desktop, and topics, the one-shot job that
# creates the registry's Kafka topics). docker-compose.yml builds them all; deploy/README.md explains operations.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim
ARG UV_VERSION=0.13.9

# ---------------------------------------------------------------------------------------------------------
# desktop-assets: the desktop's browser assets (htmx and its SSE extension) from the npm registry, locked by
# desktop/package-lock.json; only the files the pages load leave this stage.
FROM ${NODE_IMAGE} AS desktop-assets
WORKDIR /assets
COPY desktop/package.json desktop/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error \
    && mkdir vendor \
    && cp node_modules/htmx.org/dist/htmx.min.js vendor/htmx.min.js \
    && cp node_modules/htmx-ext-sse/dist/sse.js vendor/htmx-sse.js

# ---------------------------------------------------------------------------------------------------------
# builder: uv installed with pip; the third-party dependencies of every member in a cached layer that only
# changes with uv.lock or a pyproject.toml.
FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
RUN pip install "uv==${UV_VERSION}"
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY contracts/pyproject.toml contracts/
COPY chassis/pyproject.toml chassis/
COPY devstack/pyproject.toml devstack/
COPY services/identity/pyproject.toml services/identity/
COPY services/interactions/pyproject.toml services/interactions/
COPY services/callbacks/pyproject.toml services/callbacks/
COPY services/followups/pyproject.toml services/followups/
COPY services/alerts/pyproject.toml services/alerts/
COPY tools/pyproject.toml tools/
COPY desktop/pyproject.toml desktop/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --all-packages
COPY contracts/src contracts/src
COPY chassis/src chassis/src
COPY devstack/src devstack/src
COPY services/identity/src services/identity/src
COPY services/interactions/src services/interactions/src
COPY services/callbacks/src services/callbacks/src
COPY services/followups/src services/followups/src
COPY services/alerts/src services/alerts/src
COPY tools/src tools/src
COPY desktop/src desktop/src

# One environment per image: only the package and what it depends on (uv sync removes the rest), the
# workspace members installed as wheels (no editable links back to /src, which the runtime lacks).
FROM builder AS build-identity
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package icsuite-identity

FROM builder AS build-interactions
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package icsuite-interactions

FROM builder AS build-callbacks
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package icsuite-callbacks

FROM builder AS build-followups
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package icsuite-followups

FROM builder AS build-alerts
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package icsuite-alerts

FROM builder AS build-desktop
COPY --from=desktop-assets /assets/vendor desktop/src/icsuite_desktop/static/vendor
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package icsuite-desktop

FROM builder AS build-topics
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package icsuite-devstack

# ---------------------------------------------------------------------------------------------------------
# runtime: the same slim Python, no build tools, a non-root user, the environment on PATH.
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/app/.venv/bin:$PATH
RUN groupadd --system --gid 10001 icsuite \
    && useradd --system --uid 10001 --gid icsuite --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin icsuite
WORKDIR /app
USER 10001:10001

# The topic creator: every topic of icsuite_contracts.registry.all_topic_specs() with its partition count
# (dead-letter topics included); idempotent, grows a topic with too few partitions.
FROM runtime AS topics
COPY --from=build-topics /app/.venv /app/.venv
CMD ["python", "-c", "import os; from icsuite_devstack.topics import create_topics_blocking; created = create_topics_blocking(os.environ['KAFKA_BOOTSTRAP_SERVERS'], timeout=120); print(f'{len(created)} topics created:', ', '.join(created) or 'none')"]

FROM runtime AS identity
COPY --from=build-identity /app/.venv /app/.venv
ENV IC_IDENTITY_HOST=0.0.0.0 \
    IC_IDENTITY_PORT=8001
EXPOSE 8001
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['IC_IDENTITY_PORT'] + '/healthz', timeout=2)"
CMD ["python", "-m", "icsuite_identity.main"]

FROM runtime AS interactions
COPY --from=build-interactions /app/.venv /app/.venv
ENV IC_INTERACTIONS_HOST=0.0.0.0 \
    IC_INTERACTIONS_PORT=8002
EXPOSE 8002
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['IC_INTERACTIONS_PORT'] + '/healthz', timeout=2)"
CMD ["python", "-m", "icsuite_interactions.main"]

FROM runtime AS callbacks
COPY --from=build-callbacks /app/.venv /app/.venv
ENV IC_CALLBACKS_HOST=0.0.0.0 \
    IC_CALLBACKS_PORT=8003
EXPOSE 8003
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['IC_CALLBACKS_PORT'] + '/healthz', timeout=2)"
CMD ["python", "-m", "icsuite_callbacks.main"]

FROM runtime AS followups
COPY --from=build-followups /app/.venv /app/.venv
ENV IC_FOLLOWUPS_HOST=0.0.0.0 \
    IC_FOLLOWUPS_PORT=8004
EXPOSE 8004
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['IC_FOLLOWUPS_PORT'] + '/healthz', timeout=2)"
CMD ["python", "-m", "icsuite_followups.main"]

FROM runtime AS alerts
COPY --from=build-alerts /app/.venv /app/.venv
ENV IC_ALERTS_HOST=0.0.0.0 \
    IC_ALERTS_PORT=8005
EXPOSE 8005
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['IC_ALERTS_PORT'] + '/healthz', timeout=2)"
CMD ["python", "-m", "icsuite_alerts.main"]

# The agent desktop: pages for agents, supervisors and administrators; it calls the five gateways (their
# addresses in IC_DESKTOP_<SERVICE>_URL) and needs neither Kafka nor MongoDB.
FROM runtime AS desktop
COPY --from=build-desktop /app/.venv /app/.venv
ENV IC_DESKTOP_HOST=0.0.0.0 \
    IC_DESKTOP_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['IC_DESKTOP_PORT'] + '/healthz', timeout=2)"
CMD ["python", "-m", "icsuite_desktop.main"]
