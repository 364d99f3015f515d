import { z } from 'zod'

export const logSection = z
  .strictObject({
    /** pino level: trace, debug, info, warn, error, fatal or silent. */
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    /** auto: human-readable on a terminal, JSON otherwise. */
    format: z.enum(['auto', 'pretty', 'json']).default('auto'),
  })
  .prefault({})
