#!/usr/bin/env bash
# run.sh starts the whole product on this machine and prints where to go:
# the console with its relay and TURN server in the same process (the
# all-in-one mode, SQLite in .run/), and a demo agent sharing a virtual
# display (Xvfb) with a terminal and a clock on it. Ctrl-C stops
# everything; state survives in .run/ (make clean removes it).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin
state=${RUNDIR:-$PWD/.run}
mkdir -p "$state"
chmod 700 "$state"

console_port=${REACH_CONSOLE_PORT:-8080}
relay_port=${REACH_RELAY_PORT:-8081}
turn_port=${REACH_TURN_PORT:-3478}
display=${REACH_DEMO_DISPLAY:-:42}
url="http://127.0.0.1:$console_port"

pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

# waitfor URL NAME LOG: wait up to 20 s for URL to answer.
waitfor() {
  for _ in $(seq 200); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "run: $2 did not start; see $3" >&2
  tail -n 20 "$3" >&2 || true
  exit 1
}

# 1. A virtual display with something on it.
n=${display#:}
if [ -e "/tmp/.X11-unix/X$n" ]; then
  echo "run: display $display is taken; set REACH_DEMO_DISPLAY=:N" >&2
  exit 1
fi
Xvfb "$display" -screen 0 1920x1080x24 -nolisten tcp 2>>"$state/xvfb.log" &
pids+=($!)
for _ in $(seq 100); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
DISPLAY=$display xterm -geometry 110x35+60+60 -fa Monospace -fs 12 -T "Demo terminal" \
  -e bash -c 'echo "This is the demo agent'\''s screen. Type here from the console."; exec bash' 2>>"$state/xvfb.log" &
pids+=($!)
DISPLAY=$display xclock -geometry 220x220+1500+80 -update 1 2>>"$state/xvfb.log" &
pids+=($!)

# 2. The console, seeded for the demo; its first start prints the first
# admin's one-time password, which is kept (0600) to show on later runs.
"$bin/reach-console" demo -data "$state/console" -token-file "$state/enroll.token"
"$bin/reach-console" serve -data "$state/console" \
  -listen "127.0.0.1:$console_port" -public-url "$url" \
  -relay-listen "127.0.0.1:$relay_port" \
  -relay-turn-listen "127.0.0.1:$turn_port" -relay-turn-allow-loopback \
  >"$state/serve.out" 2>>"$state/console.log" &
pids+=($!)
waitfor "$url/healthz" "the console" "$state/console.log"
if [ -s "$state/serve.out" ]; then
  install -m 600 "$state/serve.out" "$state/first-login.txt"
fi

# 3. The demo agent: enrolled once with the seeded token, then serving the
# virtual display. Unattended connects ask the end user on the agent's
# own page (printed below).
if [ ! -f "$state/agent/device.key" ]; then
  "$bin/reach-agent" enroll -server "$url" -token-file "$state/enroll.token" -state "$state/agent" >>"$state/agent.log" 2>&1
fi
DISPLAY=$display "$bin/reach-agent" serve -state "$state/agent" -display "$display" \
  -policy ask -ui browser -open=false >"$state/agent.out" 2>>"$state/agent.log" &
pids+=($!)
enduser=""
for _ in $(seq 100); do
  enduser=$(grep -o 'http://127\.0\.0\.1:[0-9]*/[^ ]*' "$state/agent.out" 2>/dev/null | head -n1 || true)
  [ -n "$enduser" ] && break
  sleep 0.1
done

login="(the first admin was created on an earlier run; its one-time password is in $state/first-login.txt if it was kept)"
[ -s "$state/first-login.txt" ] && login=$(sed 's/^/  /' "$state/first-login.txt")

cat <<MSG

Reach is running (logs in $state/).

  Console    $url
$login

  Relay      ws://127.0.0.1:$relay_port (in the console's process), TURN 127.0.0.1:$turn_port
  Demo agent enrolled as "$(hostname)" in "Demo devices", sharing virtual display $display
  End user   ${enduser:-(see $state/agent.out)}
             (the demo agent's own page: enter a session code, allow or deny, stop, rate)

Open the console, sign in, open Devices → the demo device → Connect (answer
the consent on the end-user page), or open a ticket → Start remote session
and enter the code on the end-user page.

Press Ctrl-C to stop.
MSG
wait
