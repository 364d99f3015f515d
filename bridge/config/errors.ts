import { ParanoimError } from '../errors.js'

/** A config file or flag that cannot be used: names the key path and what was expected. */
export class ConfigError extends ParanoimError {
  constructor(message: string) {
    super('CONFIG_INVALID', message)
  }
}
