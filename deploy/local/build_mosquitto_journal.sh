#!/usr/bin/env bash
# Build Mosquitto's write-ahead journal plugin (deploy/local/mosquitto_journal/journal.c)
# against the headers of Debian's mosquitto-dev/libmosquitto-dev (install_deps.sh installs
# them). The .so is cached outside the repo under a hash of the source, this script and the
# headers, so a machine builds each version once; prints its path.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$HERE/mosquitto_journal/journal.c"
CACHE="${IOC_CACHE_DIR:-$HOME/.cache/ioc}"
CC="${CC:-gcc}"
for header in mosquitto_broker.h mosquitto_plugin.h mosquitto.h; do
  if [ ! -f "/usr/include/$header" ]; then
    echo "error: /usr/include/$header missing: run deploy/local/install_deps.sh" \
      "(Debian's mosquitto-dev and libmosquitto-dev)" >&2
    exit 1
  fi
done
KEY=$(cat "$SRC" "$0" /usr/include/mosquitto_broker.h /usr/include/mosquitto_plugin.h \
  /usr/include/mosquitto.h | sha256sum | cut -c1-16)
OUT="$CACHE/mosquitto-journal-$KEY/mosquitto_journal.so"
if [ -f "$OUT" ]; then echo "$OUT"; exit 0; fi
mkdir -p "$CACHE"
# One build at a time per machine; a second caller waits and then reuses the library.
exec 9>"$CACHE/build-mosquitto-journal.lock"
flock 9
if [ -f "$OUT" ]; then echo "$OUT"; exit 0; fi
TMP="$(mktemp -d "$CACHE/build-mosquitto-journal.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
echo "mosquitto journal: $CC $SRC" >&2
"$CC" -std=c11 -O2 -g -fPIC -shared -Wall -Wextra -Werror -o "$TMP/mosquitto_journal.so" "$SRC"
mkdir -p "$(dirname "$OUT")"; mv "$TMP/mosquitto_journal.so" "$OUT"
echo "$OUT"
