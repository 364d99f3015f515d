#!/usr/bin/env bash
# `paranoim demo` with a real Jabber client: starts the demo (a private testnet on 127.0.0.1, your bridge,
# the echo bot's bridge), reads the JID, password, port and certificate fingerprint it prints, logs in with
# Profanity (libstrophe) driven through tmux, accepts the certificate after comparing its fingerprint, checks
# the echo bot is in the roster and online, chats with it (every message crosses onion tunnels between the
# two bridges) and gets a delivery receipt, then stops the demo with Ctrl-C (SIGINT) and checks it exits 0
# and deletes its data. Ephemeral loopback ports only, temp dirs only.
# Exits 0 when every step was seen, 1 otherwise; screens and logs go to test/artifacts/interop/demo-*.
# Needs: profanity, tmux (Debian: apt-get install profanity tmux); imagemagick is optional (PNG screenshots).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ARTIFACTS=${INTEROP_ARTIFACTS:-$ROOT/test/artifacts/interop}
STEP_TIMEOUT=${STEP_TIMEOUT:-30}   # seconds a step may take to show on screen (answers cross the network)
START_TIMEOUT=${START_TIMEOUT:-90} # seconds the demo may take to print its connection block

for cmd in profanity tmux node; do
  command -v "$cmd" >/dev/null || { echo "missing: $cmd (Debian: apt-get install -y profanity tmux)" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/paranoim-interop-demo.XXXXXX)
mkdir -p "$ARTIFACTS" && rm -f "$ARTIFACTS"/demo-*
exec > >(tee "$ARTIFACTS/demo-run.txt") 2>&1
TMUX_SOCKET="paranoim-interop-demo-$$"
PROFANITY_LOG="$WORK/home/.local/share/profanity/logs/profanity.log"
DEMO_PID=""
STATUS=1
WHO=you # the tmux session of the one Profanity
# shellcheck source=interop-lib.sh
source "$ROOT/scripts/interop-lib.sh"

# Stops the demo as a user does (Ctrl-C); SIGKILL only if it hangs.
stop_demo() {
  [ -n "$DEMO_PID" ] || return 0
  kill -INT "$DEMO_PID" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$DEMO_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$DEMO_PID" 2>/dev/null || true
  DEMO_CODE=0
  wait "$DEMO_PID" || DEMO_CODE=$?
  DEMO_PID=""
}

cleanup() {
  [ -s "$ARTIFACTS/demo-profanity.txt" ] || screenshot "$WHO" demo-profanity-console
  cp "$PROFANITY_LOG" "$ARTIFACTS/demo-profanity.log" 2>/dev/null || true
  T kill-server 2>/dev/null || true
  stop_demo
  cp "$WORK/demo.out" "$ARTIFACTS/demo-stdout.txt" 2>/dev/null || true
  cp "$WORK/demo.err" "$ARTIFACTS/demo-stderr.txt" 2>/dev/null || true
  rm -rf "$WORK"
  if [ "$STATUS" -eq 0 ]; then echo "interop-demo: PASS (screens in $ARTIFACTS/demo-*)"; else
    echo "interop-demo: FAIL (screens and logs in $ARTIFACTS/demo-*)" >&2; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- screen:" >&2; T capture-pane -p -t "$WHO" 2>/dev/null | grep -v '^\s*$' >&2 || true
  echo "--- demo (tail):" >&2; tail -5 "$WORK/demo.err" >&2 || true
  exit 1
}

# What the demo printed for `label` (e.g. "password").
printed() { sed -n "s/^  $1  *//p" "$WORK/demo.out" | head -1; }

# --- the demo, as the README's first command, on ephemeral ports ---
node --import tsx "$ROOT/bridge/cli/main.ts" demo --log-level warn \
  --set xmpp.port=0 --set xmpp.tlsPort=0 --set webui.port=0 >"$WORK/demo.out" 2>"$WORK/demo.err" &
DEMO_PID=$!
deadline=$((SECONDS + START_TIMEOUT))
until grep -q 'Stop with Ctrl-C.' "$WORK/demo.out"; do
  kill -0 "$DEMO_PID" 2>/dev/null || fail "the demo exited before it was ready"
  [ $SECONDS -lt $deadline ] || fail "the demo printed nothing within $START_TIMEOUT s"
  sleep 0.2
done
cat "$WORK/demo.err" "$WORK/demo.out"
JID=$(printed JID)
PASSWORD=$(printed password)
PORT=$(printed port | cut -d' ' -f1)
BOT=$(printed contact | sed 's/^Echo bot: //')
DATA=$(sed -n 's/^Data (deleted when the demo stops): //p' "$WORK/demo.out")
# The SHA-1 fingerprint as Profanity prints it: lowercase hex without colons.
FINGERPRINT=$(sed -n 's/^ *SHA-1 *//p' "$WORK/demo.out" | tr -d : | tr A-F a-f)
for v in JID PASSWORD PORT BOT DATA FINGERPRINT; do [ -n "${!v}" ] || fail "the demo printed no $v"; done
[ -d "$DATA" ] || fail "no data dir $DATA"

# --- Profanity, as the user: the four facts the demo printed ---
mkdir -p "$WORK/home"
T new-session -d -s "$WHO" -x 160 -y 50 "HOME=$WORK/home TERM=xterm-256color profanity -l DEBUG"
wait_for "$WHO" 'Type /help for help information'
say "$WHO" "/connect $JID server 127.0.0.1 port $PORT tls force"
wait_for "$WHO" 'Enter password'
say "$WHO" "$PASSWORD"
wait_for "$WHO" 'TLS certificate verification failed: self-signed certificate'
wait_for "$WHO" "Fingerprint         : $FINGERPRINT"
say "$WHO" '/tls always'
wait_for "$WHO" 'logged in successfully'
say "$WHO" '/receipts request on'

# The bot is a mutual contact under its name, and online (its presence crossed the network).
wait_for "$WHO" '++ Echo bot is online, "Echo bot: send "help""'
say "$WHO" '/roster'
wait_for "$WHO" "$BOT (Echo bot) - both"

# Chat: each message goes out through an onion tunnel to the bot's bridge, the answer comes back the same way.
say "$WHO" "/msg $BOT help"
wait_for "$WHO" 'I am the ParanoIM demo contact, on another bridge'
say "$WHO" 'Hello from Profanity, héllo 😀'
wait_for "$WHO" 'echo: Hello from Profanity, héllo'
for _ in $(seq $((STEP_TIMEOUT * 5))); do
  grep -q "RECV: <message[^>]*from=\"$BOT[^>]*><received[^>]*xmlns=\"urn:xmpp:receipts\"" "$PROFANITY_LOG" && break
  sleep 0.2
done
grep -q "RECV: <message[^>]*from=\"$BOT[^>]*><received" "$PROFANITY_LOG" || fail "no delivery receipt (XEP-0184) from the bot"
echo "ok: delivery receipt from the echo bot"
screenshot "$WHO" demo-profanity
say "$WHO" '/win 1'
wait_for "$WHO" 'logged in successfully'
screenshot "$WHO" demo-profanity-console

# Ctrl-C: the demo stops cleanly and leaves nothing behind.
stop_demo
[ "$DEMO_CODE" -eq 0 ] || fail "the demo exited with $DEMO_CODE after SIGINT"
[ ! -e "$DATA" ] || fail "the demo left its data in $DATA"
echo "ok: the demo stopped on SIGINT (exit 0) and deleted $DATA"
STATUS=0
