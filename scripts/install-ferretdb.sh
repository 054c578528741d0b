#!/usr/bin/env bash
# Installs FerretDB 1.24 (a MongoDB-wire server over SQLite) into ./.tools/bin/ferretdb, for the
# tests and for the bot's embedded database where no mongod can be had. Needs Go and the Go module
# proxy. Idempotent: does nothing when a working 1.24 binary is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN_DIR="$PWD/.tools/bin"
BIN="$BIN_DIR/ferretdb"
mkdir -p "$BIN_DIR"

works() { [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q '^version: v1\.24\.'; }

if works; then
  echo "ferretdb already installed: $("$BIN" --version | head -1) at $BIN"
  exit 0
fi
command -v go >/dev/null || {
  echo "Go 1.24 or later must be on PATH to build FerretDB (https://go.dev/dl/; its archive installs in /usr/local/go/bin: export PATH=\"\$PATH:/usr/local/go/bin\")" >&2
  exit 1
}

# FerretDB's binary panics at start without build/version/version.txt, which its own build tooling
# writes and which the published module does not contain, so a plain `go install` gives a binary
# that cannot run. Build inside the downloaded module source with that file written. Some module
# proxies refuse v1.24.1 (and the version list `go install` needs), so v1.24.0 is the fallback.
for VERSION in v1.24.1 v1.24.0; do
  SRC=$(GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$VERSION" 2>/dev/null |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') || true
  if [ -z "$SRC" ] || [ ! -d "$SRC" ]; then
    echo "FerretDB $VERSION source not available from the module proxy; trying the next version" >&2
    continue
  fi
  WORK=$(mktemp -d)
  cp -r "$SRC/." "$WORK/"
  chmod -R u+w "$WORK"
  echo "$VERSION" > "$WORK/build/version/version.txt"
  if (cd "$WORK" && GOFLAGS=-mod=mod go build -trimpath -o "$BIN" ./cmd/ferretdb) && works; then
    rm -rf "$WORK"
    echo "installed $("$BIN" --version | head -1) at $BIN"
    exit 0
  fi
  rm -rf "$WORK"
  echo "building FerretDB $VERSION failed; trying the next version" >&2
done
echo "could not build FerretDB 1.24 (see the lines above)" >&2
exit 1
