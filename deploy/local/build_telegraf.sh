#!/usr/bin/env bash
# Build Telegraf (the throughput peer of `ioc bench peer`) from its Go module, trimmed to the
# plugins the bench uses. Cached outside the repo, so a machine builds it once. The build runs
# at the lowest priority on one package at a time: the 2 cores are shared.
set -euo pipefail
VERSION="${IOC_TELEGRAF_VERSION:-v1.37.2}"
CACHE="${IOC_CACHE_DIR:-$HOME/.cache/ioc}"
OUT="$CACHE/telegraf-$VERSION/telegraf"
if [ -x "$OUT" ]; then echo "$OUT"; exit 0; fi
WORK="$CACHE/build-telegraf-$VERSION"
mkdir -p "$WORK"
# One build at a time per machine; a second caller waits and then reuses the binary.
exec 9>"$WORK.lock"
flock 9
if [ -x "$OUT" ]; then echo "$OUT"; exit 0; fi
export GOFLAGS="-mod=mod -p=1" GOTOOLCHAIN=local
echo "telegraf: downloading module github.com/influxdata/telegraf@$VERSION" >&2
DIR=$(go mod download -json "github.com/influxdata/telegraf@$VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
if [ ! -f "$WORK/src/go.mod" ]; then
  rm -rf "$WORK/src"; cp -r "$DIR" "$WORK/src"; chmod -R u+w "$WORK/src"
fi
cd "$WORK/src"
# "custom" drops every plugin not named by a tag (Telegraf's documented custom builds).
TAGS="custom,inputs.mqtt_consumer,outputs.kafka,outputs.influxdb_v2,parsers.json_v2,parsers.json,parsers.influx,serializers.influx,serializers.json"
echo "telegraf: go build -tags $TAGS ./cmd/telegraf (several minutes the first time)" >&2
nice -n 19 go build -tags "$TAGS" \
  -ldflags "-X github.com/influxdata/telegraf/internal.Version=${VERSION#v}" -o "$WORK/telegraf" ./cmd/telegraf
mkdir -p "$(dirname "$OUT")"; mv "$WORK/telegraf" "$OUT"
echo "$OUT"
