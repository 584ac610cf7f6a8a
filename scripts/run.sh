#!/usr/bin/env bash
# run.sh starts Reach on embedded defaults, on this machine only, and prints
# where to go. Ctrl-C stops everything. State lives in .run/ (make clean
# removes it).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin
state=${RUNDIR:-$PWD/.run}
mkdir -p "$state"
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

relay_port=${REACH_RELAY_PORT:-8081}
turn_port=${REACH_TURN_PORT:-3478}
metrics_port=${REACH_METRICS_PORT:-9464}

# The console's token-signing key pair; the relay trusts its public half.
pub=$("$bin/reach-console" keys -dir "$state/console/keys")

"$bin/reach-relay" \
  -listen "127.0.0.1:$relay_port" \
  -metrics-listen "127.0.0.1:$metrics_port" \
  -turn-listen "127.0.0.1:$turn_port" -turn-allow-loopback \
  -console-keys "$pub" 2>>"$state/relay.log" &
pids+=($!)

for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$relay_port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$relay_port/healthz" >/dev/null || { echo "run: the relay did not start; see $state/relay.log" >&2; exit 1; }

cat <<MSG

Reach is running (logs in $state/).

  relay      ws://127.0.0.1:$relay_port/v1/agent  and  /v1/technician
  health     http://127.0.0.1:$relay_port/healthz
  metrics    http://127.0.0.1:$metrics_port/metrics
  TURN       turn:127.0.0.1:$turn_port (per-session credentials)

Try a round of brokered sessions against it:
  bin/reach-loadgen broker -pairs 2 -duration 2s -relay ws://127.0.0.1:$relay_port \\
      -metrics http://127.0.0.1:$metrics_port/metrics -key $state/console/keys/signing.key

Press Ctrl-C to stop.
MSG
wait
