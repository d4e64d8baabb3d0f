/** Progress of long work (rebuild, verify, replay, import), reported as it goes. */
export interface Progress {
  /** Called every so often with the count done so far (total when known). */
  tick(done: number, total?: number): void;
}

export const silentProgress: Progress = { tick: () => undefined };
