#!/usr/bin/env bash
# bench-agent-idle.sh measures an enrolled, idle reach-agent: connected to a
# relay (the console's in-process one) and long-polling the console for
# commands, with its inventory reported once at start. It samples the
# agent's RSS every 5 s and its CPU time over the window, after a warm-up
# in which enrollment and the first report are done.
#   AGENT_IDLE_WINDOW  measuring window in seconds (default 60; the target
#                      is defined over 600)
# Targets (issue 4): RSS <= 40 MB, CPU <= 0.5 % of one core on average.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin
window=${AGENT_IDLE_WINDOW:-60}
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
hz=$(getconf CLK_TCK)

"$bin/reach-console" demo -data "$tmp/console" -token-file "$tmp/token" >/dev/null
"$bin/reach-console" serve -data "$tmp/console" -listen 127.0.0.1:18190 -public-url http://127.0.0.1:18190 \
  -relay-listen 127.0.0.1:18191 -log-level error >"$tmp/console.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -fsS -o /dev/null http://127.0.0.1:18190/healthz 2>/dev/null && break
  sleep 0.1
done
"$bin/reach-agent" enroll -server http://127.0.0.1:18190 -token-file "$tmp/token" -state "$tmp/agent"
"$bin/reach-agent" serve -state "$tmp/agent" -policy deny -ui terminal </dev/null >"$tmp/agent.log" 2>&1 &
apid=$!
pids+=($apid)

# Warm-up: the agent connects, refreshes its token and sends its first
# (delta) report; then it is idle.
sleep 15
conns=$(ss -tnpH state established 2>/dev/null | grep -c "pid=$apid," || true)
echo "agent pid $apid: $conns established connections (relay WebSocket + console long poll)"
[ "$conns" -ge 2 ] || { echo "bench: the agent is not connected to both relay and console" >&2; cat "$tmp/agent.log" >&2; exit 1; }

cpu() { awk '{print $14 + $15}' "/proc/$apid/stat"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$apid/status"; }
c0=$(cpu); t0=$(date +%s.%N); max=0; sum=0; n=0
end=$(( $(date +%s) + window ))
while [ "$(date +%s)" -lt "$end" ]; do
  r=$(rss); sum=$((sum + r)); n=$((n + 1)); [ "$r" -gt "$max" ] && max=$r
  sleep 5
done
c1=$(cpu); t1=$(date +%s.%N)
awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$hz" -v max="$max" -v sum="$sum" -v n="$n" -v w="$window" 'BEGIN {
  cpu = 100 * (c1 - c0) / hz / (t1 - t0)
  printf "agent idle over %d s: CPU %.3f %% of one core (target <= 0.5 %%), RSS max %.1f MB, mean %.1f MB (target <= 40 MB)\n",
    w, cpu, max / 1024, sum / n / 1024
}'
echo "load: $(uptime)"
grep -v '^$' "$tmp/agent.log" | tail -n 5 || true
