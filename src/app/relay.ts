/**
 * The relay: carries ready outbox rows to the bus in per-aggregate order, and settles intents
 * whose writer died (DESIGN §3 crash table):
 *   - the version holds our event        → write the dated copy, mark ready, deliver
 *   - the version holds another event    → the intent lost a race: drop it
 *   - the version is empty               → fence it with a void marker, then drop the intent
 * Several relays share the work by leasing partitions of aggregates.
 */
import { randomUUID } from 'node:crypto';
import { ConcurrencyConflict, EngineUnavailable } from '../core/errors.js';
import { type EventEnvelope, isVoidMarkerOf, SCHEMA_VERSION } from '../core/event.js';
import { type AggregateRef, aggregateKey } from '../core/keys.js';
import { type Bus, type BusMessage, busHeaders, busKey } from '../ports/bus.js';
import { type Clock, type Ids, WakeSignal } from '../ports/clock.js';
import type { EventStore } from '../ports/event-store.js';
import type { Outbox, OutboxRow } from '../ports/outbox.js';

export interface RelayOptions {
  owner?: string;
  /** How long a partition lease lasts without renewal. */
  leaseMs?: number;
  batchSize?: number;
  /** Failed attempts before a row goes to the dead letters. */
  maxAttempts?: number;
  /** Age after which a pending intent counts as abandoned by its writer. */
  intentTimeoutMs?: number;
  /** Poll interval when no NOTIFY arrives. */
  pollMs?: number;
  log?: (message: string, error?: unknown) => void;
}

export interface RelayDeps {
  outbox: Outbox;
  store: EventStore;
  bus: Bus;
  clock: Clock;
  ids: Ids;
}

export interface RelayPass {
  delivered: number;
  failed: number;
  settled: number;
}

export class Relay {
  readonly owner: string;
  private readonly opts: Required<Omit<RelayOptions, 'owner' | 'log'>> & Pick<RelayOptions, 'log'>;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly signal = new WakeSignal();
  private unlisten: (() => Promise<void>) | undefined;
  private partitions: number[] = [];
  /** Rows published, dead-lettered, fenced with a void marker, and recovered from dead writers. */
  readonly counters = { delivered: 0, deadLettered: 0, voided: 0, recovered: 0 };

  constructor(
    private readonly deps: RelayDeps,
    options: RelayOptions = {},
  ) {
    this.owner = options.owner ?? `relay-${randomUUID()}`;
    this.opts = {
      leaseMs: options.leaseMs ?? 10_000,
      batchSize: options.batchSize ?? 200,
      maxAttempts: options.maxAttempts ?? 10,
      intentTimeoutMs: options.intentTimeoutMs ?? 30_000,
      pollMs: options.pollMs ?? 1000,
      log: options.log,
    };
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unlisten = await this.deps.outbox.onReady(this.signal.notify);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.signal.notify();
    await this.loop;
    await this.unlisten?.();
    await this.deps.outbox.releasePartitions(this.owner).catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (this.running) {
      let pass: RelayPass = { delivered: 0, failed: 0, settled: 0 };
      try {
        pass = await this.runOnce();
      } catch (e) {
        this.opts.log?.('relay pass failed; retrying', e);
        await this.signal.wait(this.opts.pollMs * 2);
        continue;
      }
      if (pass.delivered === 0 && pass.settled === 0) await this.signal.wait(this.opts.pollMs);
    }
  }

  /** One pass: renew leases, settle abandoned intents, deliver one batch. */
  async runOnce(): Promise<RelayPass> {
    this.partitions = await this.deps.outbox.leasePartitions(this.owner, this.opts.leaseMs);
    const settled = await this.settleStaleIntents();
    const rows = await this.deps.outbox.claimReady(this.partitions, this.opts.batchSize);
    const { delivered, failed } = await this.deliver(rows);
    return { delivered, failed, settled };
  }

  /** Publishes rows in order; a row that fails stops the rest of its aggregate in this batch. */
  private async deliver(rows: OutboxRow[]): Promise<{ delivered: number; failed: number }> {
    if (rows.length === 0) return { delivered: 0, failed: 0 };
    const blocked = new Set<string>();
    let failed = 0;
    const events = await Promise.all(
      rows.map((row) =>
        this.deps.store.readVersion(ref(row), row.version).then(
          (event) => ({ event, error: undefined as unknown }),
          (error: unknown) => ({ event: undefined, error }),
        ),
      ),
    );
    const fail = async (row: OutboxRow, problem: string) => {
      blocked.add(aggregateKey(ref(row)));
      failed++;
      const outcome = await this.deps.outbox.recordFailure(row.id, problem, this.opts.maxAttempts);
      if (outcome === 'dead-lettered') this.counters.deadLettered++;
      this.opts.log?.(`relay: ${problem} (${outcome})`);
    };
    const ready: { row: OutboxRow; message: BusMessage }[] = [];
    let unavailable: EngineUnavailable | undefined;
    for (const [i, row] of rows.entries()) {
      const key = aggregateKey(ref(row));
      if (blocked.has(key)) continue;
      const { event, error } = events[i]!;
      if (error instanceof EngineUnavailable) {
        // The store is away, not the row at fault: it waits for a later pass and counts no attempt,
        // so no outage, however long, dead-letters an acknowledged event.
        blocked.add(key);
        unavailable ??= error;
        continue;
      }
      const problem =
        error !== undefined
          ? `cannot read ${row.streamKey}: ${(error as Error).message}`
          : !event
            ? `${row.streamKey} is missing from the event store`
            : event.event_id !== row.eventId
              ? `${row.streamKey} holds event ${event.event_id}, not ${row.eventId}`
              : undefined;
      if (problem || !event) {
        await fail(row, problem ?? 'unknown');
        continue;
      }
      ready.push({ row, message: { key: busKey(event), headers: busHeaders(event, row.streamKey), event } });
    }
    if (unavailable) this.opts.log?.(`relay: rows wait for the event store: ${unavailable.message}`);
    if (ready.length === 0) return { delivered: 0, failed };
    // A relay that stalled past its lease must not publish over its successor: renew and keep
    // only the partitions still ours, right before publishing.
    const held = new Set(
      await this.deps.outbox.confirmLeases(this.owner, this.partitions, this.opts.leaseMs),
    );
    const mine = ready.filter((r) => held.has(r.row.partition));
    // Ready rows already have their dated copy: writers and settle() write it before marking ready.
    const delivered: number[] = [];
    try {
      await this.deps.bus.publish(mine.map((r) => r.message));
      delivered.push(...mine.map((r) => r.row.id));
    } catch (e) {
      // The bus is down (ping throws: retry the whole pass later, nothing counted against rows),
      // or it refused a message: then publish one by one so only that row fails. A failure the
      // bus reports as EngineUnavailable (no leader, too few replicas, a timeout) is the bus's,
      // not the row's: the rest of the batch waits for a later pass and no attempt is counted.
      await this.deps.bus.ping();
      this.opts.log?.('relay: a batch was refused; publishing one by one', e);
      for (const r of mine) {
        if (blocked.has(aggregateKey(ref(r.row)))) continue;
        try {
          await this.deps.bus.publish([r.message]);
          delivered.push(r.row.id);
        } catch (single) {
          if (single instanceof EngineUnavailable) {
            // Down again: the rest waits for a later pass. Still up: this aggregate waits, and
            // the rows of other aggregates behind it go on.
            const down = await this.deps.bus.ping().then(
              () => false,
              () => true,
            );
            this.opts.log?.(`relay: the bus could not take ${r.row.streamKey}; it waits`, single);
            if (down) break;
            blocked.add(aggregateKey(ref(r.row)));
            continue;
          }
          await fail(r.row, `the bus refused ${r.row.streamKey}: ${(single as Error).message ?? single}`);
        }
      }
    }
    await this.deps.outbox.markDelivered(delivered);
    this.counters.delivered += delivered.length;
    return { delivered: delivered.length, failed };
  }

  private async settleStaleIntents(): Promise<number> {
    const stale = await this.deps.outbox.staleIntents(this.partitions, this.opts.intentTimeoutMs, 100);
    let settled = 0;
    for (const row of stale) {
      try {
        if (await this.settle(row)) settled++;
      } catch (e) {
        // One intent that cannot be settled now must not stop the others or the deliveries.
        this.opts.log?.(`relay: cannot settle the intent of ${row.streamKey} yet`, e);
      }
    }
    return settled;
  }

  private async settle(row: OutboxRow): Promise<boolean> {
    const { store, outbox } = this.deps;
    for (let attempt = 0; attempt < 3; attempt++) {
      const there = await store.readVersion(ref(row), row.version);
      if (there?.event_id === row.eventId) {
        await store.writeDatedCopy(there);
        await outbox.markReady(row.eventId);
        this.counters.recovered++;
        return true;
      }
      if (there && isVoidMarkerOf(there, row.eventId)) {
        // We fenced this intent on an earlier pass but stopped before finishing.
        await this.finishVoid(row, there);
        return true;
      }
      if (there) {
        await outbox.removeIntent(row.eventId);
        return true;
      }
      try {
        const previous = row.version > 1 ? await store.readVersion(ref(row), row.version - 1) : undefined;
        const marker = this.voidMarker(row, previous);
        await store.append(marker);
        await this.finishVoid(row, marker);
        this.counters.voided++;
        return true;
      } catch (e) {
        // The writer committed after all, just now: read again.
        if (!(e instanceof ConcurrencyConflict)) throw e;
      }
    }
    return false;
  }

  /** A committed marker's dated copy, then the intent's row repointed at it (a ready row has its copy). */
  private async finishVoid(row: OutboxRow, marker: EventEnvelope): Promise<void> {
    await this.deps.store.writeDatedCopy(marker);
    await this.deps.outbox.voidIntent(row, marker.event_id);
  }

  private voidMarker(row: OutboxRow, previous: EventEnvelope | undefined): EventEnvelope {
    // Event time strictly increases per aggregate, as for every other event.
    const at = Math.max(this.deps.clock.now(), previous ? Date.parse(previous.occurred_at) + 1 : 0);
    const id = this.deps.ids.eventId(at);
    return {
      event_id: id,
      event_type: 'VersionVoided',
      aggregate_type: row.aggregateType,
      aggregate_id: row.aggregateId,
      version: row.version,
      occurred_at: new Date(at).toISOString(),
      actor: `system:${this.owner}`,
      command_id: id,
      correlation_id: row.eventId,
      causation_id: row.eventId,
      schema_version: SCHEMA_VERSION,
      data: { voided_event_id: row.eventId, reason: 'the writer did not commit before the intent timed out' },
    };
  }
}

function ref(row: OutboxRow): AggregateRef {
  return { type: row.aggregateType, id: row.aggregateId };
}
