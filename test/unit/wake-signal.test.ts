import { describe, expect, it } from 'vitest';
import { WakeSignal } from '../../src/ports/clock.js';

/** Which settles first: the wait, or a guard far shorter than the wait's own timeout. */
async function ended(wait: Promise<void>): Promise<'woken' | 'still waiting'> {
  const guard = new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 500));
  return Promise.race([wait.then(() => 'woken' as const), guard]);
}

describe('WakeSignal', () => {
  it('ends a wait when notified', async () => {
    const signal = new WakeSignal();
    const wait = signal.wait(60_000);
    signal.notify();
    expect(await ended(wait)).toBe('woken');
  });

  it('keeps a notify that came while nobody waited, for the next wait only', async () => {
    const signal = new WakeSignal();
    signal.notify();
    expect(await ended(signal.wait(60_000))).toBe('woken');
    const second = signal.wait(60_000);
    expect(await ended(second)).toBe('still waiting');
    signal.notify();
    await second;
  });

  it('ends the wait on its own after the given time', async () => {
    const signal = new WakeSignal();
    expect(await ended(signal.wait(10))).toBe('woken');
  });
});
