# syntax=docker/dockerfile:1
# The gateway as a container: `docker build -t deleted-contacts-gateway .` then
# `docker run -p 8000:8000 -e CONSTANT_CONTACT_BASE_URL=... -e GETRESPONSE_API_URL=... deleted-contacts-gateway`
# (configuration: README, "Configuration"). GraphiQL's assets are baked in: nothing is fetched at run time.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

# 1. GraphiQL's browser bundles from the npm registry (the versions pinned in vendor.json).
FROM ${NODE_IMAGE} AS graphiql
WORKDIR /src
COPY scripts/setup.sh scripts/setup.sh
COPY gateway/static/graphiql/vendor.json gateway/static/graphiql/vendor.json
RUN bash scripts/setup.sh graphiql

# 2. The gateway and its dependencies in a virtualenv (a wheel build: no tests, no dev tools).
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
RUN /opt/venv/bin/pip install .

# 3. Runtime: the virtualenv plus the assets, as an unprivileged user.
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 gateway \
 && useradd --system --uid 10001 --gid gateway --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin gateway
COPY --from=builder /opt/venv /opt/venv
# The wheel leaves out the git-ignored vendor/ directory; put the bundles where the package looks.
COPY --from=graphiql /src/gateway/static/graphiql/vendor \
     /opt/venv/lib/python3.11/site-packages/gateway/static/graphiql/vendor
RUN python -c "from gateway.http import default_graphiql; assert default_graphiql().assets_installed(), 'GraphiQL assets missing'"
# The embedded SQLite database (DATABASE_URL unset) lives on a volume the unprivileged user owns.
RUN mkdir -p /var/lib/gateway && chown gateway:gateway /var/lib/gateway
ENV DATA_DIR=/var/lib/gateway
# Authentication on, explicitly: the image binds 0.0.0.0, where `gateway serve` refuses AUTH_MODE=off.
# Issue keys with `docker run ... gateway keys create --name NAME --scopes ...` on the same volume.
ENV AUTH_MODE=on
VOLUME ["/var/lib/gateway"]
USER gateway
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
CMD ["gateway", "serve", "--host", "0.0.0.0", "--port", "8000"]
