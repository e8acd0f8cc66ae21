#!/usr/bin/env bash
# Build influxd 2.7 from its Go module (Flux built by cargo through influxdata/pkg-config).
# The binary is cached outside the repo, so a machine builds it once.
set -euo pipefail
VERSION="${IOC_INFLUXD_VERSION:-v2.7.12}"
CACHE="${IOC_CACHE_DIR:-$HOME/.cache/ioc}"
OUT="$CACHE/influxd-$VERSION/influxd"
if [ -x "$OUT" ]; then echo "$OUT"; exit 0; fi
WORK="$CACHE/build-influxd-$VERSION"
mkdir -p "$WORK" "$CACHE/bin"
# One build at a time per machine; a second caller waits and then reuses the binary.
exec 9>"$WORK.lock"
flock 9
if [ -x "$OUT" ]; then echo "$OUT"; exit 0; fi
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
echo "influxd: downloading module github.com/influxdata/influxdb/v2@$VERSION" >&2
DIR=$(go mod download -json "github.com/influxdata/influxdb/v2@$VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
if [ ! -f "$WORK/src/go.mod" ]; then
  rm -rf "$WORK/src"; cp -r "$DIR" "$WORK/src"; chmod -R u+w "$WORK/src"
fi
PKGCFG_VERSION=$(awk '$1=="github.com/influxdata/pkg-config"{print $2; exit}' "$WORK/src/go.mod")
echo "influxd: building pkg-config wrapper $PKGCFG_VERSION" >&2
GOBIN="$WORK/bin" go install "github.com/influxdata/pkg-config@${PKGCFG_VERSION:-v0.2.14}"
# libflux pins an old toolchain in rust-toolchain; only the installed one can be had here.
export RUSTUP_TOOLCHAIN="${RUSTUP_TOOLCHAIN:-$(rustup show active-toolchain 2>/dev/null | cut -d" " -f1 || echo stable)}"
# flux-core denies warnings, so newer rustc lints would fail the build: cap them. Cargo
# applies RUSTFLAGS to build scripts only without --target, so the shim drops --target
# and links the output where the pkg-config wrapper looks for it.
cat > "$WORK/bin/cargo-capped" <<SHIM
#!/usr/bin/env bash
export RUSTUP_TOOLCHAIN="$RUSTUP_TOOLCHAIN" RUSTFLAGS="--cap-lints warn"
args=(); triple=""
while ((\$#)); do
  if [ "\$1" = --target ]; then triple="\$2"; shift 2; else args+=("\$1"); shift; fi
done
"$(command -v cargo)" "\${args[@]}" || exit \$?
if [ -n "\$triple" ]; then mkdir -p "target/\$triple"; ln -sfn ../release "target/\$triple/release"; fi
SHIM
chmod +x "$WORK/bin/cargo-capped"
export CARGO="$WORK/bin/cargo-capped"
export PATH="$WORK/bin:$PATH" PKG_CONFIG="$WORK/bin/pkg-config"
cd "$WORK/src"
echo "influxd: go build ./cmd/influxd (builds libflux with cargo; 10-30 min the first time)" >&2
go build -o "$WORK/influxd" ./cmd/influxd
mkdir -p "$(dirname "$OUT")"; mv "$WORK/influxd" "$OUT"
echo "$OUT"
