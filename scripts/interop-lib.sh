# Shared by the interop scripts that drive Profanity through tmux (source it; not run on its own).
# The caller sets TMUX_SOCKET (a private tmux server), ARTIFACTS, STEP_TIMEOUT and defines fail().
# `who` is a tmux session name, one per Profanity instance.

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
