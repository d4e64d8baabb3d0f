/** Time and identity, injected so tests can control them. */
import { monotonicFactory } from 'ulid';

export interface Clock {
  /** Now, in milliseconds since the epoch. */
  now(): number;
}

export interface Ids {
  /** A new ULID whose time part is `at` (milliseconds), monotonic within a process. */
  eventId(at: number): string;
}

export const systemClock: Clock = { now: () => Date.now() };

export function ulidIds(): Ids {
  const next = monotonicFactory();
  return { eventId: (at) => next(at) };
}

/**
 * A sleep that can be cut short, without lost wake-ups: `notify` ends the current `wait`, and a
 * `notify` while nobody waits makes the next `wait` return at once (a NOTIFY that arrives during
 * a pass is not lost until the next poll).
 */
export class WakeSignal {
  private pending = false;
  private resolve: (() => void) | undefined;

  notify = (): void => {
    this.pending = true;
    const r = this.resolve;
    this.resolve = undefined;
    r?.();
  };

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.pending = false;
        self.resolve = undefined;
        resolve();
      }
      this.resolve = done;
    });
  }
}
