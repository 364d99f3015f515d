# Shared by the interop scripts that drive real clients through tmux (source it; not run on its own).
# The caller sets TMUX_SOCKET (a private tmux server), ARTIFACTS, STEP_TIMEOUT and defines fail().
# `who` is a tmux session name, one per client instance (Profanity, poezio). The Profanity helpers need DOMAIN.

T() { tmux -L "$TMUX_SOCKET" "$@"; }

# Saves `who`'s current Profanity window as text (and PNG when ImageMagick is there) under `name`.
screenshot() {
  local who=$1 name=$2
  T capture-pane -p -t "$who" 2>/dev/null | grep -v '^\s*$' >"$ARTIFACTS/$name.txt" || true
  if command -v convert >/dev/null && [ -s "$ARTIFACTS/$name.txt" ]; then
    local lines cols
    lines=$(wc -l <"$ARTIFACTS/$name.txt")
    cols=$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$ARTIFACTS/$name.txt")
    convert -size $((cols * 8 + 20))x$((lines * 16 + 20)) xc:'#101010' -fill '#d8d8d8' -font DejaVu-Sans-Mono \
      -pointsize 13 -annotate +10+18 "$(cat "$ARTIFACTS/$name.txt")" "$ARTIFACTS/$name.png" 2>/dev/null || true
  fi
}

# How many times `text` is on `who`'s screen.
seen() { T capture-pane -p -J -t "$1" | grep -cF -- "$2" || true; }

# Waits until `text` is on `who`'s screen at least `count` times (default 1).
wait_for() {
  local who=$1 text=$2 count=${3:-1} deadline=$((SECONDS + STEP_TIMEOUT))
  while [ "$(seen "$who" "$text")" -lt "$count" ]; do
    [ $SECONDS -lt $deadline ] || fail "$who never saw: $text"
    sleep 0.2
  done
  echo "ok: $who sees \"$text\""
}

# Types `text` into `who`'s Profanity and presses Enter.
say() { T send-keys -t "$1" -l -- "$2"; T send-keys -t "$1" Enter; }

# Opens a Profanity (debug log on) as tmux session `who`, with `home` as its HOME.
start_profanity() {
  local who=$1 home=$2
  mkdir -p "$home"
  T new-session -d -s "$who" -x 160 -y 50 "HOME=$home TERM=xterm-256color profanity -l DEBUG"
  wait_for "$who" 'Type /help for help information'
}

# The SHA-1 fingerprint of the certificate of the bridge that wrote `log`, as Profanity prints it:
# lowercase hex without colons.
profanity_fingerprint() {
  grep -o '"fingerprintSha1":"[0-9A-F:]*"' "$1" | head -1 | cut -d'"' -f4 | tr -d : | tr A-F a-f
}

# Logs `who` in as `who@$DOMAIN` with `password` on `port` with Profanity's `tls` policy. The first time
# (`first`), Profanity shows the self-signed certificate: it is accepted for good (`/tls always`) only if
# its fingerprint is `fingerprint` (the bridge's).
profanity_login() {
  local who=$1 port=$2 policy=$3 first=$4 fingerprint=$5 password=$6 prompts logins
  prompts=$(seen "$who" 'Enter password')
  logins=$(seen "$who" 'logged in successfully')
  say "$who" "/connect $who@$DOMAIN server 127.0.0.1 port $port tls $policy"
  wait_for "$who" 'Enter password' $((prompts + 1))
  say "$who" "$password"
  if [ "$first" = first ]; then
    wait_for "$who" 'TLS certificate verification failed: self-signed certificate'
    wait_for "$who" "Fingerprint         : $fingerprint"
    say "$who" '/tls always'
  fi
  wait_for "$who" 'logged in successfully' $((logins + 1))
}

# Stops processes as a user would (SIGTERM to all), then SIGKILL each that is still there after 5 s.
stop_processes() {
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}

# The check's last line, from STATUS and NAME.
report_status() {
  if [ "$STATUS" -eq 0 ]; then echo "$NAME: PASS (screens in $ARTIFACTS)"; else
    echo "$NAME: FAIL (screens and logs in $ARTIFACTS)" >&2; fi
}
