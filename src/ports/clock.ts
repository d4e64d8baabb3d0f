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
