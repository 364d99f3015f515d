#!/usr/bin/env bash
# Group chat across two bridges with two different real Jabber clients: a private testnet of relays on
# 127.0.0.1 (`paranoim testnet`), two `paranoim start` bridges on it, alice in Profanity (libstrophe) on
# bridge A, bob in poezio (slixmpp) on bridge B, both driven through tmux. Alice creates a room, accepts
# its default configuration and invites bob with Profanity's XEP-0249 direct invitation (which signs him
# in across the network); bob's bridge shows him the room's invitation, he joins the room JID he sees
# (<group address>@conference.<domain>), they talk (each message seen once on each side), alice sets the
# subject, bob changes his nick, alice kicks him with a reason. Ephemeral ports and temp dirs only.
# Exits 0 when every step was seen on screen, 1 otherwise; screens and logs go to test/artifacts/interop/.
# Needs: profanity, poezio, tmux, openssl (Debian: apt-get install profanity poezio tmux openssl);
# imagemagick is optional (PNG screenshots). Poezio refuses to run as root: as root it runs as nobody.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ARTIFACTS=${INTEROP_ARTIFACTS:-$ROOT/test/artifacts/interop}
STEP_TIMEOUT=${STEP_TIMEOUT:-20} # seconds a step may take to show on screen (it crosses the network)
START_TIMEOUT=${START_TIMEOUT:-60} # seconds the testnet and a bridge may take to start (node and tsx, on a busy machine)
DOMAIN=paranoim.localhost
NAME=interop-poezio-muc
PREFIX=muc-poezio-
ROOM="lounge@conference.$DOMAIN"

for cmd in profanity poezio tmux node openssl; do
  command -v "$cmd" >/dev/null || { echo "missing: $cmd (Debian: apt-get install -y profanity poezio tmux openssl)" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/paranoim-interop-poezio.XXXXXX)
chmod 755 "$WORK" # poezio's home inside it may belong to nobody
mkdir -p "$ARTIFACTS" && rm -f "$ARTIFACTS/$PREFIX"*
exec > >(tee "$ARTIFACTS/${PREFIX}run.txt") 2>&1
TMUX_SOCKET="paranoim-$NAME-$$"
PIDS=() # the testnet's and the bridges'
STATUS=1
# shellcheck source=interop-lib.sh
source "$ROOT/scripts/interop-lib.sh"
PARANOIM=(node --import tsx "$ROOT/bridge/cli/main.ts" --config "$ROOT/config/testnet.toml" --log-level info)

cleanup() {
  screenshot alice "${PREFIX}profanity-alice"
  screenshot bob "${PREFIX}poezio-bob"
  cp "$WORK/home-alice/.local/share/profanity/logs/profanity.log" "$ARTIFACTS/${PREFIX}profanity-alice.log" 2>/dev/null || true
  cp "$WORK/home-bob/poezio.log" "$ARTIFACTS/${PREFIX}poezio-bob.log" 2>/dev/null || true
  for side in a b; do cp "$WORK/bridge-$side.log" "$ARTIFACTS/${PREFIX}bridge-$side.log" 2>/dev/null || true; done
  T kill-server 2>/dev/null || true
  stop_processes "${PIDS[@]}"
  rm -rf "$WORK"
  report_status
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for who in alice bob; do echo "--- $who's screen:" >&2; T capture-pane -p -t "$who" 2>/dev/null | grep -v '^\s*$' >&2 || true; done
  for side in a b; do echo "--- bridge $side log (tail):" >&2; tail -5 "$WORK/bridge-$side.log" >&2 || true; done
  exit 1
}

# Waits until `file` has a line matching `pattern` (grep -E), at most `timeout` seconds (STEP_TIMEOUT).
wait_log() {
  local file=$1 pattern=$2 deadline=$((SECONDS + ${3:-$STEP_TIMEOUT}))
  until grep -qE -- "$pattern" "$file" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "$file never showed: $pattern"
    sleep 0.2
  done
}

# --- the network: relays, then one bridge per user, each with its identity ---
"${PARANOIM[@]}" testnet --nodes 10 >"$WORK/testnet.out" 2>"$WORK/testnet.log" &
PIDS+=($!)
printf '%s' 'alice-interop-pw' >"$WORK/alice.pw"
printf '%s' 'bob-interop-pw' >"$WORK/bob.pw"
creating=()
for who in alice bob; do
  "${PARANOIM[@]}" --data-dir "$WORK/${who:0:1}" identity create --nickname "$who" --password-file "$WORK/$who.pw" \
    >"$WORK/$who.id" 2>&1 &
  creating+=($!)
done
for pid in "${creating[@]}"; do wait "$pid" || fail "identity create: $(cat "$WORK/alice.id" "$WORK/bob.id")"; done
BOB_ADDRESS=$(sed -n 's/^address: //p' "$WORK/bob.id")
wait_log "$WORK/testnet.log" '^bootstrap node: ' "$START_TIMEOUT"
BOOTSTRAP=$(sed -n 's/^bootstrap node: \([0-9.:]*\).*/\1/p' "$WORK/testnet.log")
for side in a b; do
  "${PARANOIM[@]}" --data-dir "$WORK/$side" start --set "dht.bootstrap=[\"$BOOTSTRAP\"]" --set xmpp.port=0 \
    --set xmpp.tlsPort=0 --set webui.enabled=false >"$WORK/bridge-$side.log" 2>&1 &
  PIDS+=($!)
done
for side in a b; do wait_log "$WORK/bridge-$side.log" 'XMPP server listening' "$START_TIMEOUT"; done
port_of() { grep -o '"starttls":[0-9]*' "$WORK/bridge-$1.log" | head -1 | cut -d: -f2; }
echo "testnet bootstrap $BOOTSTRAP; bridge A on 127.0.0.1:$(port_of a), bridge B on 127.0.0.1:$(port_of b)"

# --- alice: Profanity on bridge A, accepting its certificate by its SHA-1 fingerprint ---
start_profanity alice "$WORK/home-alice"
profanity_login alice "$(port_of a)" force first "$(profanity_fingerprint "$WORK/bridge-a.log")" "$(cat "$WORK/alice.pw")"

# --- bob: poezio on bridge B. Its config trusts bridge B's certificate as the only CA (slixmpp checks the
# chain and the name) and pins its public key (poezio's `certificate`: SHA-256 of the SPKI, which poezio
# would otherwise ask about); a wrong one would show "Certificate check required". ---
BOB_HOME=$WORK/home-bob
mkdir -p "$BOB_HOME/config/poezio"
cp "$WORK/b/tls/$DOMAIN.crt" "$BOB_HOME/bridge.crt"
SPKI=$(openssl x509 -in "$BOB_HOME/bridge.crt" -noout -pubkey | openssl pkey -pubin -outform DER |
  openssl dgst -sha256 -binary | od -An -tx1 | tr -d ' \n' | tr a-f A-F | sed 's/../&:/g; s/:$//')
cat >"$BOB_HOME/config/poezio/poezio.cfg" <<CFG
[Poezio]
jid = bob@$DOMAIN
password = $(cat "$WORK/bob.pw")
custom_host = 127.0.0.1
custom_port = $(port_of b)
ca_cert_path = $BOB_HOME/bridge.crt
certificate = $SPKI
CFG
AS_USER=()
if [ "$(id -u)" -eq 0 ]; then
  chown -R nobody "$BOB_HOME"
  AS_USER=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
fi
# NCURSES_NO_UTF8_ACS: borders as Unicode lines, so the screen's text is only poezio's.
T new-session -d -s bob -x 160 -y 50 "${AS_USER[*]} env HOME=$BOB_HOME XDG_CONFIG_HOME=$BOB_HOME/config \
  XDG_DATA_HOME=$BOB_HOME/data XDG_CACHE_HOME=$BOB_HOME/cache TERM=xterm-256color LANG=C.UTF-8 \
  NCURSES_NO_UTF8_ACS=1 poezio -d $BOB_HOME/poezio.log"
wait_for bob 'Authentication success.'
[ "$(seen bob 'Certificate check required')" -eq 0 ] || fail "poezio did not recognise bridge B's certificate"
# Types `text` into poezio and presses Enter. A command's "/" goes first (it opens poezio's command line).
# Poezio has been seen to miss an Enter that came right after the text: Enter again while the text is
# still on the input line (the pane's last line).
poezio() {
  local text=$1
  if [ "${text:0:1}" = / ]; then T send-keys -t bob -l /; sleep 0.2; text=${text:1}; fi
  T send-keys -t bob -l -- "$text"
  for _ in 1 2 3; do
    sleep 0.3
    T send-keys -t bob Enter
    sleep 0.3
    T capture-pane -p -t bob | tail -1 | grep -qF -- "$text" || return 0
  done
  fail "poezio did not take: $1"
}

# Both identities are on the network (tunnels built, record published) before anyone is invited.
for side in a b; do wait_log "$WORK/bridge-$side.log" 'identity reachable'; done

# --- the room ---
say alice "/join $ROOM nick Alice"
wait_for alice 'Room locked'
say alice '/room accept'
wait_for alice 'Room unlocked'
say alice "/invite send $BOB_ADDRESS@$DOMAIN come in"
wait_for bob 'You are invited to the room'
# The room's JID on bob's bridge, as his screen shows it (poezio wraps it: the lines are joined).
BOB_ROOM=$(T capture-pane -p -t bob | tr -d ' │\n' | grep -o "[a-z2-7]\{56\}@conference\.$DOMAIN" | head -1)
[ -n "$BOB_ROOM" ] || fail "bob's screen shows no room JID"
echo "ok: bob is invited to $BOB_ROOM"
poezio "/join $BOB_ROOM/Bob"
wait_for bob 'You (Bob) joined the room'
wait_for bob 'Alice joined the room'

poezio 'Hello room, Bob here'
wait_for alice 'Bob: Hello room, Bob here'
say alice 'Welcome Bob'
wait_for bob 'Alice> Welcome Bob'
sleep 1 # a second copy would show up here
for check in 'alice Bob: Hello room, Bob here' 'alice Alice: Welcome Bob' 'bob Bob> Hello room, Bob here' \
  'bob Alice> Welcome Bob'; do
  [ "$(seen "${check%% *}" "${check#* }")" -eq 1 ] || fail "${check%% *} does not see \"${check#* }\" once"
done
echo "ok: each message is seen once on each side"

say alice '/subject set Tea time'
wait_for bob 'Alice set the subject to: Tea time'
poezio '/nick Robert'
wait_for alice 'Bob is now known as Robert'
wait_for bob 'Bob is now known as Robert'
say alice '/kick Robert too loud'
wait_for alice 'Robert has been kicked from the room by Alice, reason: too loud'
wait_for bob 'You have been kicked by Alice Reason: too loud'

for pid in "${PIDS[@]}"; do kill -0 "$pid" || fail "a bridge or the testnet died"; done
screenshot alice "${PREFIX}profanity-alice-room"
screenshot bob "${PREFIX}poezio-bob-room"
STATUS=0
