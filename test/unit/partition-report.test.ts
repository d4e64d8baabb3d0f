import { describe, expect, it } from 'vitest';
import { partitionReport } from '../../src/cli/partition-report.js';

const now = new Date('2026-05-01T12:00:00.000Z');
const at = (iso: string) => new Date(iso);

describe('the relay partitions `strata outbox status` prints', () => {
  it('given no relay ever ran, says that none is leased', () => {
    const partitions = Array.from({ length: 16 }, (_, partition) => ({
      partition,
      owner: null,
      leaseUntil: null,
    }));
    expect(partitionReport(partitions, now)).toEqual(['relay partitions: 16, none leased']);
  });

  it('given two relays and a dead one, lists each owner with its partitions (as ranges) and lease', () => {
    const partitions = [
      { partition: 0, owner: 'relay-a', leaseUntil: at('2026-05-01T12:00:10.000Z') },
      { partition: 1, owner: 'relay-a', leaseUntil: at('2026-05-01T12:00:09.000Z') },
      { partition: 2, owner: 'relay-a', leaseUntil: at('2026-05-01T12:00:10.000Z') },
      { partition: 3, owner: 'relay-b', leaseUntil: at('2026-05-01T12:00:12.000Z') },
      { partition: 4, owner: 'relay-dead', leaseUntil: at('2026-05-01T11:59:00.000Z') },
      { partition: 5, owner: 'relay-a', leaseUntil: at('2026-05-01T12:00:10.000Z') },
      { partition: 6, owner: null, leaseUntil: null },
      { partition: 7, owner: null, leaseUntil: null },
    ];
    expect(partitionReport(partitions, now)).toEqual([
      'relay partitions: 8',
      '  relay-a: 0-2, 5 (lease until 2026-05-01T12:00:09.000Z)',
      '  relay-b: 3 (lease until 2026-05-01T12:00:12.000Z)',
      '  relay-dead: 4 (lease expired 2026-05-01T11:59:00.000Z)',
      '  not leased: 6-7',
    ]);
  });
});
