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

NAME=interop-profanity
PREFIX=''
# shellcheck source=interop-session.sh
source "$ROOT/scripts/interop-session.sh"
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
