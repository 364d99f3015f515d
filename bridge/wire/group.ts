/**
 * The group formats (docs/protocol.md "Groups"), one file per idea:
 * group-update.ts (the signed state chain), group-state.ts (a member's full
 * state), group-message.ts (messages, bodies, key packages), group-control.ts
 * (pairwise group bodies), group-rendezvous.ts (an open room's record),
 * group-bytes.ts (their error type and byte helpers).
 */
export * from './group-bytes.js'
export * from './group-control.js'
export * from './group-message.js'
export * from './group-rendezvous.js'
export * from './group-state.js'
export * from './group-update.js'
