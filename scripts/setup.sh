#!/usr/bin/env bash
# setup.sh installs every Debian and npm package that Reach's build, `make run`
# and `make test` need. It is idempotent: packages already present are not
# touched, and apt-get runs only when something is missing. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages, grouped by why they are needed.
apt_packages=(
  # build: robotgo links X11/XTest, the agent's encoders link libvpx.
  gcc libc6-dev pkg-config libx11-dev libxtst-dev libxext-dev libvpx-dev
  # headless display and tools the tests drive.
  xvfb xdotool x11-apps x11-utils xterm xfonts-base fonts-dejavu-core x11-xserver-utils
  # browser tests: Debian's Chromium, driven by playwright-core from npm.
  chromium
  # the console's PostgreSQL store is tested against a real server.
  postgresql
  # network-namespace tests (NAT traversal) and socket inspection.
  iproute2 iptables procps curl
  # installer and packaging tests: rpm -qpl, systemd-analyze verify, the ACME test CA,
  # an X cookie for the agent unit's sandbox test.
  rpm systemd pebble xauth
)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]}; run 'sudo make setup'" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Node.js: the machine image ships it; a bare Debian gets Debian's.
if ! command -v npm >/dev/null; then
  missing=(nodejs npm)
  [[ $(id -u) -eq 0 ]] || { echo "setup: npm missing; run 'sudo make setup'" >&2; exit 1; }
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v go >/dev/null; then
  echo "setup: Go 1.26 or newer is required (expected at /usr/local/go/bin)" >&2
  exit 1
fi

# npm packages for the browser tests and the web UI build, pinned by package-lock.json.
for dir in web; do
  if [[ -f $dir/package-lock.json ]]; then
    if [[ ! -d $dir/node_modules ]] || [[ $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
      echo "setup: npm ci in $dir"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
  fi
done
