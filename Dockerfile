# syntax=docker/dockerfile:1
# The project's image: one `ioc` for every pipeline process (docker-compose.yml runs it as
# bridge, worker, api, the simulator and the one-shots). Build: docker compose build.

# --- build: the virtualenv, with the console's Leaflet vendored into the installed package
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ioc ./ioc
# `ioc assets` fetches Leaflet from the npm registry at the pinned version, sha512-checked
# (ioc/devstack/console_assets.py), into site-packages/ioc/api/static/vendor for the API
RUN python -m venv /opt/ioc \
 && /opt/ioc/bin/pip install . \
 && IOC_CACHE_DIR=/tmp/ioc-cache /opt/ioc/bin/ioc assets \
 && rm -rf /tmp/ioc-cache

# --- run: no compiler, no pip cache, not root
FROM python:3.11-slim
ARG IOC_UID=10001
# Mount points of docker-compose.yml's named volumes, owned by ioc so that a new volume
# mounted there starts out writable by it (Docker copies the mount point's owner into it):
# /var/lib/ioc the state (API users), /run/ioc-secrets/* the token files the pipeline-tokens
# one-shot leaves for the worker and the API, /run/ioc-dashboards/* what Grafana provisions.
RUN useradd --system --uid "${IOC_UID}" --user-group --create-home --home-dir /home/ioc ioc \
 && for dir in /var/lib/ioc /run/ioc-secrets/worker /run/ioc-secrets/api \
               /run/ioc-dashboards/build /run/ioc-dashboards/gazetteer; do \
      mkdir -p "$dir" && chown ioc:ioc "$dir"; \
    done \
 && chmod 0700 /var/lib/ioc /run/ioc-secrets/worker /run/ioc-secrets/api
COPY --from=build /opt/ioc /opt/ioc
WORKDIR /app
# the device registry (IOC_REGISTRY's default is relative to the working directory)
COPY deploy/registry ./deploy/registry
ENV PATH=/opt/ioc/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    IOC_PROFILE=prod \
    IOC_STATE_DIR=/var/lib/ioc \
    IOC_LOG_FORMAT=json \
    IOC_API_HOST=0.0.0.0 \
    IOC_API_PORT=8000
USER ioc
EXPOSE 8000
# the default command is the API; compose gives the bridge and the worker checks of their own
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=6 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('IOC_API_PORT', '8000') + '/healthz', timeout=4)"]
ENTRYPOINT ["ioc"]
CMD ["api"]
