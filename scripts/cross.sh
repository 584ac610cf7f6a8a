#!/usr/bin/env bash
# cross.sh checks that what must run on Windows and macOS still compiles
# there without cgo: the installer (service management through
# kardianos/service), TLS, the wire protocol, the relay and console
# binaries, and the agent packages that need no cgo or X11. The agent
# binary itself needs cgo (libvpx, robotgo, X11) and is built per platform
# with that platform's toolchain; docs/install.md lists what compiles where.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(
  ./installer/...
  ./internal/tlsconfig ./internal/envflag ./internal/buildinfo
  ./proto/...
  ./relay/cmd/reach-relay ./console/cmd/reach-console
  ./agent/consent ./agent/inventory/... ./agent/diag ./agent/capture ./agent/colorconv
)
for target in windows/amd64 darwin/amd64 darwin/arm64; do
  echo "cross: $target CGO_ENABLED=0"
  GOOS=${target%/*} GOARCH=${target#*/} CGO_ENABLED=0 go build "${pkgs[@]}"
done
