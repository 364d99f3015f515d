#!/usr/bin/env bash
# Installs the Debian packages the tests use, once. Each entry: a command to look for, its package.
set -euo pipefail
need=()
check() { command -v "$1" >/dev/null 2>&1 || need+=("$2"); }
check ip iproute2
check chromium chromium # the web UI's browser tests (playwright-core drives /usr/bin/chromium)
check profanity profanity # a real Jabber client: test/xmpp/interop-profanity.test.ts
check tmux tmux # drives it
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages for the tests: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
