/**
 * A non-negative integer as a fixed-width decimal key part, so LevelDB's
 * byte order is numeric order (sequence numbers, timestamps, expiries).
 */
export const sortableNumber = (n: number, digits: number): string => String(n).padStart(digits, '0')
