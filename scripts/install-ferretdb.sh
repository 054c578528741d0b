#!/usr/bin/env bash
# Installs FerretDB 1.24 (a MongoDB-wire server over SQLite) into ./.tools/bin/ferretdb, for the
# tests and for the bot's embedded database where no mongod can be had. Needs Go and the Go module
# proxy. Idempotent: does nothing when a 1.24 binary is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN_DIR="$PWD/.tools/bin"
BIN="$BIN_DIR/ferretdb"
mkdir -p "$BIN_DIR"

if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q '^version: v1\.24\.'; then
  echo "ferretdb already installed: $("$BIN" --version | head -1) at $BIN"
  exit 0
fi
command -v go >/dev/null || { echo "Go is needed to build FerretDB (https://go.dev/dl/)" >&2; exit 1; }

# The documented way first.
if GOBIN="$BIN_DIR" GOFLAGS=-mod=mod go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.1 2>/tmp/ferretdb-install.log; then
  echo "installed $("$BIN" --version | head -1) at $BIN"
  exit 0
fi
echo "go install ...@v1.24.1 failed ($(tail -1 /tmp/ferretdb-install.log)); building v1.24.0 from its module source" >&2

# Some module proxies refuse v1.24.1 and the module's version list, which `go install` needs for
# its deprecation check. Building inside the downloaded module avoids both; FerretDB's binary
# panics without build/version/version.txt (written by its own build tooling), so we write it.
VERSION=v1.24.0
SRC=$(GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$SRC" ] || { echo "could not download FerretDB $VERSION source" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp -r "$SRC/." "$WORK/"
chmod -R u+w "$WORK"
echo "$VERSION" > "$WORK/build/version/version.txt"
(cd "$WORK" && GOFLAGS=-mod=mod go build -trimpath -o "$BIN" ./cmd/ferretdb)
echo "installed $("$BIN" --version | head -1) at $BIN"
