/** Progress bars on a terminal, periodic lines otherwise (CI logs). */
import cliProgress from 'cli-progress';
import type { Progress } from '../app/progress.js';

export function progressBar(label: string, total?: number): Progress & { stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} {duration_formatted}`,
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      tick(done, t) {
        if (!started) {
          bar.start(t ?? total ?? done, 0);
          started = true;
        }
        if (t !== undefined || total === undefined) bar.setTotal(Math.max(t ?? total ?? done, done));
        bar.update(done);
      },
      stop: () => started && bar.stop(),
    };
  }
  let last = 0;
  let lastDone = 0;
  return {
    tick(done, t) {
      lastDone = done;
      if (Date.now() - last > 2000) {
        last = Date.now();
        process.stderr.write(`${label}: ${done}${(t ?? total) ? `/${t ?? total}` : ''}\n`);
      }
    },
    stop: () => process.stderr.write(`${label}: ${lastDone} done\n`),
  };
}
