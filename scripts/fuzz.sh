#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target in the repository for the given time
# each (default 20s). New interesting inputs land in Go's fuzz cache; copy
# the ones worth keeping into the package's testdata/fuzz/<Target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-20s}
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "== $pkg $target ($time)"
    go test -run '^$' -fuzz "^$target\$" -fuzztime "$time" "$pkg"
  done
done
