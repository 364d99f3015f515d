# Shared by the Profanity interop scripts (source it after setting NAME, the script's name, and PREFIX,
# its artifacts' prefix): checks the tools, starts a bridge with accounts alice and bob on free loopback
# ports, opens a Profanity for each in tmux and logs both in (accepting the certificate by its fingerprint);
# defines fail() and login() (to log in again); cleans up on exit.
# The caller sets ROOT, ARTIFACTS, STEP_TIMEOUT and DOMAIN, and STATUS=0 once every step passed.
for cmd in profanity tmux node; do
  command -v "$cmd" >/dev/null || { echo "missing: $cmd (Debian: apt-get install -y profanity tmux)" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/paranoim-interop.XXXXXX)
mkdir -p "$ARTIFACTS" && rm -f "$ARTIFACTS/$PREFIX"{profanity-*,bridge.log,run.txt} # not the other scripts' files
exec > >(tee "$ARTIFACTS/${PREFIX}run.txt") 2>&1
TMUX_SOCKET="paranoim-$NAME-$$"
BRIDGE_PID=""
STATUS=1
# shellcheck source=interop-lib.sh
source "$ROOT/scripts/interop-lib.sh"

save_artifacts() {
  for who in alice bob; do
    screenshot "$who" "${PREFIX}profanity-$who"
    cp "$WORK/home-$who/.local/share/profanity/logs/profanity.log" "$ARTIFACTS/${PREFIX}profanity-$who.log" 2>/dev/null || true
  done
  cp "$WORK/bridge.log" "$ARTIFACTS/${PREFIX}bridge.log" 2>/dev/null || true
}

cleanup() {
  save_artifacts
  T kill-server 2>/dev/null || true
  if [ -n "$BRIDGE_PID" ]; then stop_processes "$BRIDGE_PID"; fi
  rm -rf "$WORK"
  report_status
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
FINGERPRINT=$(profanity_fingerprint "$WORK/bridge.log")
[ -n "$FINGERPRINT" ] || fail "the bridge log shows no fingerprintSha1"
echo "bridge on 127.0.0.1:$XMPP_PORT (STARTTLS) and :$TLS_PORT (direct TLS), certificate SHA-1 $FINGERPRINT"

for who in alice bob; do start_profanity "$who" "$WORK/home-$who"; done

# Logs `who` in on `port` with Profanity's `tls` policy (see profanity_login).
login() { profanity_login "$1" "$2" "$3" "$4" "$FINGERPRINT" "$(cat "$WORK/$1.pw")"; }

login alice "$XMPP_PORT" force first
login bob "$XMPP_PORT" force first
