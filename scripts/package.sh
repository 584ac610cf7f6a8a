#!/usr/bin/env bash
# package.sh builds the .deb and .rpm packages of reach-agent, reach-relay
# and reach-console from the binaries in $BIN (default bin/, see `make
# build`) into $OUT (default bin/packages/) with nfpm, pinned below and built from
# the Go module proxy on first use. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin}
OUT=${OUT:-bin/packages}
COMPONENTS=${COMPONENTS:-agent relay console}
FORMATS=${FORMATS:-deb rpm}
# Newer nfpm releases depend on modules the module proxy does not serve.
NFPM_VERSION=v2.44.0
TOOLS=${TOOLS:-$PWD/.run/tools}

# Package versions must start with a digit: tag v1.2.3 -> 1.2.3; an
# untagged build -> 0.0.0~git<describe> ('~' sorts before any release).
raw=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
raw=${raw#v}
if [[ $raw =~ ^[0-9] ]]; then
  version=${raw//-/.}
else
  version="0.0.0~git${raw//-/.}"
fi
arch=${ARCH:-$(go env GOARCH)}

nfpm=$TOOLS/nfpm-$NFPM_VERSION
if [[ ! -x $nfpm ]]; then
  echo "package: building nfpm $NFPM_VERSION"
  mkdir -p "$TOOLS"
  GOFLAGS= GOBIN=$TOOLS go install "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION"
  mv "$TOOLS/nfpm" "$nfpm"
fi

mkdir -p "$OUT"
conf=$(mktemp -d)
trap 'rm -rf "$conf"' EXIT
for c in $COMPONENTS; do
  [[ -x $BIN/reach-$c ]] || { echo "package: $BIN/reach-$c missing: run make build" >&2; exit 1; }
  # nfpm expands ${VERSION} and ${ARCH} itself, but not paths in contents.
  sed "s|\${BIN}|$BIN|g" "packaging/nfpm/$c.yaml" >"$conf/$c.yaml"
  for f in $FORMATS; do
    VERSION=$version ARCH=$arch "$nfpm" package --config "$conf/$c.yaml" --packager "$f" --target "$OUT/" >/dev/null
  done
done
ls -1 "$OUT"/reach-*"$version"* 2>/dev/null || ls -1 "$OUT"
