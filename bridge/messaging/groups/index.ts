/**
 * The group protocol (docs/groups.md): what the gateway and the MUC service
 * use. Formats are in bridge/wire/group.ts.
 */
export * from './errors.js'
export * from './group-key.js'
export {
  drawEpochSecrets,
  type EpochSecrets,
  groupMailboxIdentity,
  groupMailboxItemKey,
  messageKey,
} from './keys.js'
export {
  openMailboxItem,
  openNormal,
  sealHigh,
  sealMailboxItem,
  sealNormal,
  verifyNormal,
} from './message.js'
export * from './session.js'
export {
  applyUpdate,
  applyUpdates,
  DEFAULT_GROUP_CONFIG,
  type GroupState,
  genesisUpdate,
  proposeUpdate,
  type StateChange,
  signUpdate,
} from './state.js'
export { groupTables } from './tables.js'
export * from './timeline.js'
