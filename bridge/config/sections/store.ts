import { z } from 'zod'

export const storeSection = z
  .strictObject({
    /** Data directory; empty means $XDG_DATA_HOME/paranoim (or ~/.local/share/paranoim). */
    dataDir: z.string().default(''),
  })
  .prefault({})
