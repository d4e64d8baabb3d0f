/** The relay partitions as `strata outbox status` prints them: who leases which, until when. */
import type { OutboxStats } from '../ports/outbox.js';

/** `0-2, 5`: runs of consecutive partitions as ranges. */
function ranges(numbers: number[]): string {
  const runs: [number, number][] = [];
  for (const n of [...numbers].sort((a, b) => a - b)) {
    const last = runs.at(-1);
    if (last && n === last[1] + 1) last[1] = n;
    else runs.push([n, n]);
  }
  return runs.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ');
}

export function partitionReport(partitions: OutboxStats['partitions'], now: Date): string[] {
  const byOwner = new Map<string, { partitions: number[]; leaseUntil: Date | null }>();
  const free: number[] = [];
  for (const p of partitions) {
    if (p.owner === null) {
      free.push(p.partition);
      continue;
    }
    const o = byOwner.get(p.owner) ?? { partitions: [], leaseUntil: p.leaseUntil };
    o.partitions.push(p.partition);
    // The earliest lease is the one that lapses first.
    if (p.leaseUntil && (!o.leaseUntil || p.leaseUntil < o.leaseUntil)) o.leaseUntil = p.leaseUntil;
    byOwner.set(p.owner, o);
  }
  if (byOwner.size === 0) return [`relay partitions: ${partitions.length}, none leased`];
  const lines = [`relay partitions: ${partitions.length}`];
  for (const [owner, o] of [...byOwner].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const lease = o.leaseUntil
      ? ` (lease ${o.leaseUntil > now ? 'until' : 'expired'} ${o.leaseUntil.toISOString()})`
      : '';
    lines.push(`  ${owner}: ${ranges(o.partitions)}${lease}`);
  }
  if (free.length > 0) lines.push(`  not leased: ${ranges(free)}`);
  return lines;
}
