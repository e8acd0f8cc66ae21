#!/usr/bin/env bash
# Install what the native local services and tests need, only when missing: Mosquitto from Debian's
# packages (its dynamic-security plugin holds the logins, so no mosquitto_passwd) with the headers
# its journal plugin is compiled against; curl for the
# docker-compose InfluxDB token script's test; Java and Maven for Kafka; Go and cargo to build InfluxDB (checked, not installed:
# Debian's Go is too old for InfluxDB 2.7, and this machine kind ships a current one).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
need=()
command -v mosquitto >/dev/null 2>&1 || need+=(mosquitto)
command -v mosquitto_sub >/dev/null 2>&1 || need+=(mosquitto-clients)
# the broker's write-ahead journal plugin (build_mosquitto_journal.sh) compiles against these
[ -f /usr/include/mosquitto_broker.h ] || need+=(mosquitto-dev)
[ -f /usr/include/mosquitto.h ] || need+=(libmosquitto-dev)
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
# the console's browser test drives Debian's Chromium (Playwright never downloads a browser)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${need[@]}" | sort -u)
fi
for tool in go cargo; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: '$tool' is needed to build InfluxDB 2.7 from source (Go >= 1.21, Rust)." >&2
    exit 1
  fi
done
mosquitto -h 2>/dev/null | head -n 1 || true
