#!/usr/bin/env bash
# bench.sh runs the benchmarks recorded in docs/benchmarks.md. With no
# argument it runs every group; name groups to run only those:
#   relay   10,000 idle agents (memory/connection, CPU) and brokering throughput, from a separate process
#   turn    relayed throughput through the embedded TURN server
#   inventory  full inventory collection, sealing a report
#   agent-idle enrolled agent idle on a relay connection and the console long poll: RSS and CPU (AGENT_IDLE_WINDOW s)
#   store   console store: inventory ingestion, ticket queue and fleet search with 100k tickets / 10k devices, SQLite and PostgreSQL
#   media   per-stage capture, conversion and encode cost on a 1080p Xvfb (idle, scrolling, motion)
#   session end to end in Chromium: glass-to-glass latency, input latency, fps and bandwidth
#   kpi     KPI report and escalation scan over 100,000 tickets, SQLite and PostgreSQL; SLA calendar arithmetic
# Every run is bounded in count and time and targets loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
groups=("$@")
((${#groups[@]})) || groups=(relay turn inventory media session store kpi)
bin=$PWD/bin
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

# start_relay starts a fresh relay on loopback ports for the load generator.
start_relay() {
  "$bin/reach-relay" -listen 127.0.0.1:18081 -metrics-listen 127.0.0.1:19464 -turn-listen "" \
    -console-keys "$tmp/keys/signing.pub" -log-level error &
  pids+=($!)
  for _ in $(seq 100); do
    curl -fsS http://127.0.0.1:18081/healthz >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "bench: relay did not start" >&2; exit 1
}
stop_relay() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }

loadgen() {
  "$bin/reach-loadgen" "$@" -relay ws://127.0.0.1:18081 -metrics http://127.0.0.1:19464/metrics -key "$tmp/keys/signing.key"
}

for g in "${groups[@]}"; do
  case $g in
  relay)
    "$bin/reach-console" keys -dir "$tmp/keys" >/dev/null
    echo "== relay: ${IDLE_AGENTS:-10000} idle agents at the default 25 s heartbeat"
    start_relay
    loadgen idle -agents "${IDLE_AGENTS:-10000}" -hold "${IDLE_HOLD:-60s}"
    stop_relay
    echo "== relay: brokering at an offered 1,000 sessions/s over 500 technician/agent pairs, ${BROKER_TIME:-10s}"
    start_relay
    loadgen broker -pairs 500 -rate 1000 -duration "${BROKER_TIME:-10s}"
    stop_relay
    echo "== relay: brokering flat out, 200 pairs back to back, ${BROKER_TIME:-10s}"
    start_relay
    loadgen broker -pairs 200 -duration "${BROKER_TIME:-10s}"
    stop_relay
    ;;
  turn)
    echo "== turn: relayed throughput through the embedded TURN server"
    go test -run '^$' -bench BenchmarkRelayThroughput -benchtime 5s -count 3 ./relay/turnsrv/
    ;;
  inventory)
    echo "== inventory: full collection (steady state and a fresh agent's first), sealing a report"
    go test -run '^$' -bench 'CollectFull' -benchtime 20x -count 3 ./agent/inventory/
    go test -run '^$' -bench 'CollectCold' -benchtime 3x ./agent/inventory/
    go test -run '^$' -bench 'Seal' ./proto/inventory/
    go test -run 'TestUnchangedDeltaIsSmall' -v ./proto/inventory/ | grep -E 'bytes|PASS|FAIL' || true
    ;;
  media)
    echo "== media: capture → BGRX→I420 → VP8/VP9 per frame on 1920x1080 Xvfb"
    go test -run '^$' -bench Pipeline -benchtime 90x -count 3 ./agent/encode/
    go test -run '^$' -bench . -benchtime 90x -count 3 ./agent/capture/
    go test -run '^$' -bench . -count 3 ./agent/colorconv/
    ;;
  session)
    echo "== session: agent + relay + Xvfb + Chromium at 1080p"
    go test -run '^$' -bench BenchmarkSession -benchtime 1x -timeout 10m ./e2e/
    ;;
  store)
    echo "== store: ingestion, then queue and fleet-search latency (seeding takes a few minutes)"
    go test -run '^$' -bench 'Store/Ingest' -benchtime 3s ./console/sqlite ./console/postgres
    go test -run '^$' -bench 'Store/(TicketQueue|FleetSearch)/' -benchtime 300x -timeout 30m ./console/sqlite ./console/postgres
    echo "== store: ingestion through the device API (signed HTTP, validation, SQLite)"
    go test -run '^$' -bench IngestReports -benchtime 400x ./console/agentapi/
    ;;
  kpi)
    echo "== kpi: KPI report and escalation scan over 100,000 tickets (seeding takes a minute per store)"
    go test -run '^$' -bench 'Compute' -benchtime 5x -timeout 30m ./console/kpi/
    go test -run '^$' -bench 'Scan' -benchtime 5x -timeout 30m ./console/escalation/
    go test -run '^$' -bench . ./console/sla/
    ;;
  agent-idle)
    echo "== agent-idle: enrolled agent on a relay connection and the console long poll, ${AGENT_IDLE_WINDOW:-60} s"
    bash scripts/bench-agent-idle.sh
    ;;
  *) echo "bench: unknown group $g" >&2; exit 2 ;;
  esac
done
