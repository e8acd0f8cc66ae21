#!/usr/bin/env bash
# docker compose one-shot: find or issue the read-only InfluxDB token Grafana uses and leave
# it in $IOC_SECRETS_DIR/influx-read.token (mode 0600, owned by Grafana's user). The operator
# token comes in as INFLUX_TOKEN (with INFLUX_HOST, INFLUX_ORG) and is never written down.
# Idempotent: a token that still reads the bucket is kept; otherwise every authorization with
# this description is revoked and a new one issued. Needs only bash, curl, sed and awk (all
# in the influxdb:2.7 image); InfluxDB pretty-prints its JSON one field per line.
set -euo pipefail

host=${INFLUX_HOST:-http://influxdb:8086}
org=${INFLUX_ORG:-dongxoai}
bucket=${IOC_INFLUX_BUCKET:-ioc}
secrets=${IOC_SECRETS_DIR:-/run/ioc-secrets}
owner=${IOC_SECRETS_OWNER:-472}   # uid of the grafana/grafana image's user
out=$secrets/influx-read.token
description="ioc-grafana-read $bucket"

api() {  # api TOKEN METHOD PATH [curl args...]
    local token=$1 method=$2 path=$3
    shift 3
    # the header reaches curl as a config on stdin (printf is a builtin): a token on curl's
    # argv would be readable by every local user in `ps`; \ and " are escaped for the config
    token=${token//\\/\\\\}
    printf 'header = "Authorization: Token %s"\n' "${token//\"/\\\"}" |
        curl -fsS -K - -X "$method" "$host$path" "$@"
}

field() {  # the first `"name": "value"` line's value
    sed -n "s/^[[:space:]]*\"$1\":[[:space:]]*\"\\([^\"]*\\)\".*\$/\\1/p" | head -n 1
}

found=$(api "$INFLUX_TOKEN" GET "/api/v2/buckets?org=$org&name=$bucket")
bucket_id=$(field id <<< "$found")
org_id=$(field orgID <<< "$found")
if [ -z "$bucket_id" ]; then
    echo "influx-tokens: bucket $bucket not found in org $org" >&2
    exit 1
fi

if [ -s "$out" ] && api "$(cat "$out")" GET "/api/v2/buckets?orgID=$org_id&name=$bucket" \
        2> /dev/null | grep -q "\"id\": \"$bucket_id\""; then
    echo "influx-tokens: Grafana's read-only token for $bucket is valid"
    exit 0
fi

# an authorization lists its own "id" first, then "token", "status", "description"
api "$INFLUX_TOKEN" GET "/api/v2/authorizations?orgID=$org_id" |
    awk -v d="\"$description\"" '
        /^[[:space:]]*"id":/ { id = $2; gsub(/[",]/, "", id) }
        /^[[:space:]]*"description":/ { v = $0; sub(/^[^:]*:[[:space:]]*/, "", v)
                                        sub(/,$/, "", v); if (v == d) print id }' |
    while read -r stale; do
        api "$INFLUX_TOKEN" DELETE "/api/v2/authorizations/$stale"
    done

body=$(printf '{"orgID": "%s", "description": "%s", "permissions": [{"action": "read",
    "resource": {"type": "buckets", "id": "%s", "orgID": "%s"}}]}' \
    "$org_id" "$description" "$bucket_id" "$org_id")
token=$(api "$INFLUX_TOKEN" POST /api/v2/authorizations -H "Content-Type: application/json" \
        --data "$body" | field token)
if [ -z "$token" ]; then
    echo "influx-tokens: InfluxDB issued no token" >&2
    exit 1
fi
umask 077
mkdir -p "$secrets"
printf '%s' "$token" > "$out.tmp"
chown "$owner" "$out.tmp"
mv "$out.tmp" "$out"
echo "influx-tokens: issued Grafana's read-only token for $bucket ($description)"
