#!/usr/bin/env bash
# Docker Compose v2 (the `docker compose` CLI plugin) built from its Go module, for machines
# whose docker client has no compose plugin (Debian's docker-compose is the old v1). Needed to
# validate docker-compose.yml (`docker compose config`, tests/integration/deploy); no Docker
# engine is needed for that. Cached outside the repo by version, so a machine builds it once,
# then installed as a CLI plugin of the docker client (DOCKER_CONFIG, default ~/.docker).
# The build runs at the lowest priority on one package at a time: the 2 cores are shared.
# Prints the binary's path (it also works standalone: `docker-compose config`).
set -euo pipefail
VERSION="${IOC_COMPOSE_VERSION:-v2.40.3}"
CACHE="${IOC_CACHE_DIR:-$HOME/.cache/ioc}"
OUT="$CACHE/docker-compose-$VERSION/docker-compose"
PLUGINS="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"

install_plugin() {  # unless the docker client already has a compose plugin of its own
  if [ -L "$PLUGINS/docker-compose" ] || ! docker compose version >/dev/null 2>&1; then
    mkdir -p "$PLUGINS"
    ln -sfn "$OUT" "$PLUGINS/docker-compose"
  fi
  echo "$OUT"
}

if [ -x "$OUT" ]; then install_plugin; exit 0; fi
WORK="$CACHE/build-compose-$VERSION"
mkdir -p "$WORK"
# One build at a time per machine; a second caller waits and then reuses the binary.
exec 9>"$WORK.lock"
flock 9
if [ -x "$OUT" ]; then install_plugin; exit 0; fi
command -v go >/dev/null 2>&1 || { echo "error: 'go' is needed to build Docker Compose" >&2; exit 1; }
export GOFLAGS="-mod=mod -p=1" GOTOOLCHAIN=local CGO_ENABLED=0
MODULE=github.com/docker/compose/v2
echo "compose: downloading module $MODULE@$VERSION" >&2
# `go install MODULE/cmd@VERSION` is refused (its go.mod has exclude directives): build
# inside a copy of the module, where go.mod is the main module's
DIR=$(go mod download -json "$MODULE@$VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
if [ ! -f "$WORK/src/go.mod" ]; then
  rm -rf "$WORK/src"; cp -r "$DIR" "$WORK/src"; chmod -R u+w "$WORK/src"
fi
cd "$WORK/src"
echo "compose: go build ./cmd (several minutes the first time)" >&2
nice -n 19 go build -trimpath -ldflags "-s -w -X $MODULE/internal.Version=$VERSION" \
  -o "$WORK/docker-compose" ./cmd
mkdir -p "$(dirname "$OUT")"; mv "$WORK/docker-compose" "$OUT"
rm -rf "$WORK/src"
install_plugin
