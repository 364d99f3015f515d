#!/usr/bin/env bash
# Interop check with a real Jabber client: two Profanity instances (libstrophe), driven through tmux,
# log in to a freshly started bridge as alice and bob, accept the self-signed certificate after comparing
# its fingerprint, subscribe to each other, chat both ways (receipts, chat states), and bob gets an offline
# message when he comes back over direct TLS. Everything is on 127.0.0.1 with ephemeral ports, in a temp dir.
# Exits 0 when every step was seen on screen, 1 otherwise; screens and logs go to test/artifacts/interop/.
# Needs: profanity, tmux (Debian: apt-get install profanity tmux); imagemagick is optional (PNG screenshots).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ARTIFACTS=${INTEROP_ARTIFACTS:-$ROOT/test/artifacts/interop}
STEP_TIMEOUT=${STEP_TIMEOUT:-20} # seconds a step may take to show on screen
DOMAIN=paranoim.localhost

for cmd in profanity tmux node; do
  command -v "$cmd" >/dev/null || { echo "missing: $cmd (Debian: apt-get install -y profanity tmux)" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/paranoim-interop.XXXXXX)
mkdir -p "$ARTIFACTS" && rm -f "$ARTIFACTS"/{profanity-*,bridge.log,run.txt} # not the other scripts' files
exec > >(tee "$ARTIFACTS/run.txt") 2>&1
TMUX_SOCKET="paranoim-interop-$$"
BRIDGE_PID=""
STATUS=1
# shellcheck source=interop-lib.sh
source "$ROOT/scripts/interop-lib.sh"

save_artifacts() {
  for who in alice bob; do
    screenshot "$who" "profanity-$who"
    cp "$WORK/home-$who/.local/share/profanity/logs/profanity.log" "$ARTIFACTS/profanity-$who.log" 2>/dev/null || true
  done
  cp "$WORK/bridge.log" "$ARTIFACTS/bridge.log" 2>/dev/null || true
}

cleanup() {
  save_artifacts
  T kill-server 2>/dev/null || true
  if [ -n "$BRIDGE_PID" ]; then
    kill -TERM "$BRIDGE_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$BRIDGE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$BRIDGE_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  if [ "$STATUS" -eq 0 ]; then echo "interop-profanity: PASS (screens in $ARTIFACTS)"; else
    echo "interop-profanity: FAIL (screens and logs in $ARTIFACTS)" >&2; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for who in alice bob; do echo "--- $who's screen:" >&2; T capture-pane -p -t "$who" 2>/dev/null | grep -v '^\s*$' >&2 || true; done
  echo "--- bridge log (tail):" >&2; tail -5 "$WORK/bridge.log" >&2 || true
  exit 1
}

# Three free loopback ports (held together so they differ, then released for the bridge).
read -r XMPP_PORT TLS_PORT WEB_PORT < <(node -e '
  const net = require("node:net")
  const servers = [0, 1, 2].map(() => net.createServer().listen(0, "127.0.0.1"))
  Promise.all(servers.map((s) => new Promise((r) => s.on("listening", r)))).then(() => {
    console.log(servers.map((s) => s.address().port).join(" "))
    for (const s of servers) s.close()
  })')

BRIDGE=(node --import tsx "$ROOT/bridge/cli/main.ts" --data-dir "$WORK/data" --log-level info
  --set identity.kdf.logN=12 --set net.host=127.0.0.1 --set "xmpp.port=$XMPP_PORT"
  --set "xmpp.tlsPort=$TLS_PORT" --set "webui.port=$WEB_PORT")
printf '%s' 'alice-interop-pw' >"$WORK/alice.pw"
printf '%s' 'bob-interop-pw' >"$WORK/bob.pw"
for who in alice bob; do
  "${BRIDGE[@]}" identity create --nickname "$who" --password-file "$WORK/$who.pw" >>"$WORK/bridge.log" 2>&1 \
    || fail "identity create $who"
done
"${BRIDGE[@]}" start >>"$WORK/bridge.log" 2>&1 &
BRIDGE_PID=$!
for _ in $(seq $((STEP_TIMEOUT * 5))); do grep -q 'XMPP server listening' "$WORK/bridge.log" && break; sleep 0.2; done
grep -q 'XMPP server listening' "$WORK/bridge.log" || fail "the bridge did not start"
# The SHA-1 fingerprint as Profanity prints it: lowercase hex without colons.
FINGERPRINT=$(grep -o '"fingerprintSha1":"[0-9A-F:]*"' "$WORK/bridge.log" | head -1 | cut -d'"' -f4 | tr -d : | tr A-F a-f)
[ -n "$FINGERPRINT" ] || fail "the bridge log shows no fingerprintSha1"
echo "bridge on 127.0.0.1:$XMPP_PORT (STARTTLS) and :$TLS_PORT (direct TLS), certificate SHA-1 $FINGERPRINT"

for who in alice bob; do
  mkdir -p "$WORK/home-$who"
  T new-session -d -s "$who" -x 160 -y 50 "HOME=$WORK/home-$who TERM=xterm-256color profanity -l DEBUG"
  wait_for "$who" 'Type /help for help information'
done

# Logs `who` in on `port` with Profanity's `tls` policy. The first time, Profanity shows the self-signed
# certificate: it is accepted for good (`/tls always`) only if its fingerprint is the bridge's.
login() {
  local who=$1 port=$2 policy=$3 first=$4 prompts logins
  prompts=$(seen "$who" 'Enter password')
  logins=$(seen "$who" 'logged in successfully')
  say "$who" "/connect $who@$DOMAIN server 127.0.0.1 port $port tls $policy"
  wait_for "$who" 'Enter password' $((prompts + 1))
  say "$who" "$(cat "$WORK/$who.pw")"
  if [ "$first" = first ]; then
    wait_for "$who" 'TLS certificate verification failed: self-signed certificate'
    wait_for "$who" "Fingerprint         : $FINGERPRINT"
    say "$who" '/tls always'
  fi
  wait_for "$who" 'logged in successfully' $((logins + 1))
}

login alice "$XMPP_PORT" force first
login bob "$XMPP_PORT" force first
for who in alice bob; do say "$who" '/receipts request on'; say "$who" '/receipts send on'; done

# RFC 6121 §3: each asks, the other approves.
say alice "/sub request bob@$DOMAIN"
wait_for bob "Received authorization request from alice@$DOMAIN"
say bob "/sub allow alice@$DOMAIN"
say bob "/sub request alice@$DOMAIN"
wait_for alice "Received authorization request from bob@$DOMAIN"
say alice "/sub allow bob@$DOMAIN"
wait_for alice "bob@$DOMAIN (profanity"
wait_for bob "alice@$DOMAIN (profanity"
say alice '/roster'
wait_for alice "bob@$DOMAIN - both"

# Chat both ways, with a chat state on the way.
say alice "/msg bob@$DOMAIN Hello Bob, this is Alice"
wait_for bob "<< chat message: alice@$DOMAIN"
say bob '/win 2'
wait_for bob 'Hello Bob, this is Alice'
T send-keys -t bob -l 'Bob is typi'
wait_for alice '(typing...)'
T send-keys -t bob C-u
say bob "Hi Alice, Bob here"
wait_for alice 'Hi Alice, Bob here'
for _ in $(seq $((STEP_TIMEOUT * 5))); do
  grep -q 'RECV: <message[^>]*><received[^>]*xmlns="urn:xmpp:receipts"' \
    "$WORK/home-alice/.local/share/profanity/logs/profanity.log" && break
  sleep 0.2
done
grep -q 'RECV: <message[^>]*><received' "$WORK/home-alice/.local/share/profanity/logs/profanity.log" \
  || fail "alice got no delivery receipt (XEP-0184)"
echo "ok: alice got bob's delivery receipt"

# Bob leaves; alice writes; bob comes back over direct TLS (XEP-0368) and gets it from offline storage.
say alice '/win 1'
say bob '/win 1'
say bob '/disconnect'
wait_for alice "bob@$DOMAIN (profanity"
wait_for alice 'is offline'
say alice "/msg bob@$DOMAIN Offline note for Bob"
login bob "$TLS_PORT" legacy again
wait_for bob "<< chat message: alice@$DOMAIN" 2
say bob '/win 2'
wait_for bob 'Offline note for Bob'

kill -0 "$BRIDGE_PID" || fail "the bridge died"
for who in alice bob; do
  screenshot "$who" "profanity-$who-chat"
  say "$who" '/win 1'
  wait_for "$who" 'logged in successfully' # only the console window (1) shows it
done
STATUS=0
