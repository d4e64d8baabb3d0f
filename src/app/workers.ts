/** Projection workers: one consumer group per projection, offsets committed after the write. */
import type { EventEnvelope } from '../core/event.js';
import type { Bus, Subscription } from '../ports/bus.js';
import type { ProjectionOutcome } from './projectors/graph.js';

export interface Projector {
  project(events: EventEnvelope[]): Promise<ProjectionOutcome>;
}

export interface WorkerStats {
  batches: number;
  applied: number;
  /** Events the projection already had: duplicates in the bus or replays. */
  duplicates: number;
  resets: number;
  /** Messages on the bus that were not Strata events, skipped. */
  skipped: number;
  errors: number;
  lastError: string | null;
}

export class ProjectionWorker {
  readonly stats: WorkerStats = {
    batches: 0,
    applied: 0,
    duplicates: 0,
    resets: 0,
    skipped: 0,
    errors: 0,
    lastError: null,
  };
  private subscription: Subscription | undefined;

  constructor(
    readonly group: string,
    private readonly bus: Bus,
    private readonly projector: Projector,
    private readonly log?: (message: string, error?: unknown) => void,
  ) {}

  async start(): Promise<void> {
    this.subscription ??= await this.bus.subscribe(
      {
        group: this.group,
        onError: (e) => {
          this.stats.errors++;
          this.stats.lastError = (e as Error).message ?? String(e);
          this.log?.(`${this.group}: batch failed, retrying`, e);
        },
        onSkip: (reason) => {
          this.stats.skipped++;
          this.log?.(`${this.group}: ${reason}`);
        },
      },
      async (batch) => {
        const outcome = await this.projector.project(batch.map((m) => m.event));
        this.stats.batches++;
        this.stats.applied += outcome.applied;
        this.stats.duplicates += outcome.skipped;
        this.stats.resets += outcome.resets;
      },
    );
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = undefined;
  }
}
