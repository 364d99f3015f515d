/**
 * Time periods of blinded record keys. Period n covers [n·periodMs, (n+1)·periodMs)
 * of Unix time in milliseconds; every node of a network must use the same
 * dht.periodMs. Publishers start on the next period's key `overlapMs` before
 * it begins, so a reader whose clock is ahead still finds the record.
 */
export function periodAt(now: number, periodMs: number): number {
  return Math.floor(now / periodMs)
}

/** The current period, and the next one when its start is less than `overlapMs` away. */
export function periodsToPublish(now: number, periodMs: number, overlapMs: number): number[] {
  const current = periodAt(now, periodMs)
  const nextStart = (current + 1) * periodMs
  return nextStart - now <= overlapMs ? [current, current + 1] : [current]
}

/** The current period first; the previous one too while it ended less than `overlapMs` ago (its records still live). */
export function periodsToLookUp(now: number, periodMs: number, overlapMs: number): number[] {
  const current = periodAt(now, periodMs)
  return now - current * periodMs < overlapMs && current > 0 ? [current, current - 1] : [current]
}
