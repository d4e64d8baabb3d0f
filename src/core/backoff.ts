/** The one backoff every retry loop uses: exponential from `firstMs`, capped, with jitter. */

/**
 * Delay before retry number `attempt` (1 = the first retry): `firstMs · 2^(attempt-1)` capped at
 * `capMs`, then drawn from the upper half of that ("equal jitter"), so retries of many clients
 * spread out but never collapse to zero.
 */
export function backoffDelay(attempt: number, firstMs: number, capMs: number): number {
  const ceiling = Math.min(capMs, firstMs * 2 ** Math.max(0, Math.min(attempt, 30) - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
