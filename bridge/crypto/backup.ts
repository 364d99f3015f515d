/** The three backup forms of a sealed key (docs/protocol.md "Key backups"). */
export { backupFromFile, backupToFile } from './backup-file.js'
export { backupFromQrPayloads, backupToQrPayloads } from './backup-qr.js'
export { backupFromText, backupToText } from './backup-text.js'
