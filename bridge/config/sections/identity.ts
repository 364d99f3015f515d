import { z } from 'zod'

/** scrypt cost for keys at rest; the parameters travel in each blob, so raising them later is safe. */
export const identitySection = z
  .strictObject({
    kdf: z
      .strictObject({
        /** log2 of scrypt's N (CPU/memory cost). 17 → 128 MiB, about 0.3 s natively. */
        logN: z.number().int().min(10).max(22).default(17),
        /** scrypt block size r. */
        r: z.number().int().min(1).max(32).default(8),
        /** scrypt parallelism p. */
        p: z.number().int().min(1).max(16).default(1),
      })
      .prefault({}),
  })
  .prefault({})
