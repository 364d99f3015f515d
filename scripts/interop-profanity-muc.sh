#!/usr/bin/env bash
# MUC interop check with a real Jabber client: two Profanity instances (libstrophe), driven through tmux,
# log in to a freshly started bridge as alice and bob; alice creates a room at conference.<domain> and
# accepts the default configuration and makes bob a member (a room is a network group: only members its owners
# or admins signed in may join; Profanity's /invite is a XEP-0249 direct invitation, which adds nobody), bob joins, they talk in the room, alice sets the subject and kicks bob.
# Everything is on 127.0.0.1 with ephemeral ports, in a temp dir.
# Exits 0 when every step was seen on screen, 1 otherwise; screens and logs go to test/artifacts/interop/.
# Needs: profanity, tmux (Debian: apt-get install profanity tmux); imagemagick is optional (PNG screenshots).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ARTIFACTS=${INTEROP_ARTIFACTS:-$ROOT/test/artifacts/interop}
STEP_TIMEOUT=${STEP_TIMEOUT:-20} # seconds a step may take to show on screen
DOMAIN=paranoim.localhost

NAME=interop-profanity-muc
PREFIX=muc-
# shellcheck source=interop-session.sh
source "$ROOT/scripts/interop-session.sh"
ROOM="lounge@conference.$DOMAIN"

# XEP-0045 §10.1.2: the new room is locked until its owner accepts the default configuration.
say alice "/join $ROOM nick Alice"
wait_for alice 'Room locked'
say alice '/room accept'
wait_for alice 'Room unlocked'
say alice "/affiliation set member bob@$DOMAIN"
sleep 1 # the signed state and the epoch key reach bob's identity (a room action waits groups.keyWaitMs for them)
say bob "/join $ROOM nick Bob"
wait_for bob 'You have joined the room as Bob, role: participant, affiliation: member'
say bob 'Hello room, Bob here'
wait_for alice 'Hello room, Bob here'
say alice 'Welcome Bob'
wait_for bob 'Welcome Bob'
# Profanity recognises the room's echo of its own message (same id and origin-id) and shows it once.
sleep 1
[ "$(seen alice 'Alice: Welcome Bob')" -eq 1 ] || fail "alice sees her own message more than once"
echo "ok: alice sees her own message once"
say alice '/subject set Tea time'
wait_for bob 'Tea time'
say alice '/kick Bob too loud'
wait_for bob "Kicked from $ROOM by Alice, reason: too loud"
wait_for alice 'Bob has been kicked from the room by Alice, reason: too loud'

kill -0 "$BRIDGE_PID" || fail "the bridge died"
for who in alice bob; do screenshot "$who" "muc-profanity-$who-room"; done
STATUS=0
