#!/usr/bin/env bash
# Installs the Debian packages the tests use, once. Each entry: a command to look for, its package.
# With `bench`: also the reference servers `npm run bench` compares against (best effort: a machine
# without them still benches, without the reference column).
set -euo pipefail
need=()
check() { command -v "$1" >/dev/null 2>&1 || need+=("$2"); }
if [ "${1:-}" = "bench" ]; then
  command -v prosody >/dev/null 2>&1 && exit 0
  echo "installing Debian's prosody as the XMPP bench reference"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prosody >/dev/null; } ||
    echo "prosody could not be installed: the xmpp bench runs without its reference"
  exit 0
fi
check ip iproute2
check chromium chromium # the web UI's browser tests (playwright-core drives /usr/bin/chromium)
check profanity profanity # a real Jabber client: test/xmpp/interop-profanity.test.ts
check poezio poezio # a second real client (slixmpp): test/e2e/groups-poezio.test.ts
check tmux tmux # drives them
check openssl openssl # the poezio check pins the bridge certificate's key
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages for the tests: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
