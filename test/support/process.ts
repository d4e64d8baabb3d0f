/** Runs `strata` as a child process, as users do: serve (with fault hooks) and one-shot commands. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));

/**
 * The child's environment: this process's, minus the engine settings that npm run test:all
 * exports (a child is embedded unless a test passes engines explicitly), plus `env`.
 */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of [
    'STRATA_EVENT_STORE',
    'STRATA_DATABASE_URL',
    'STRATA_KAFKA_BROKERS',
    'STRATA_SEARCH_URL',
  ]) {
    delete base[name];
  }
  return { ...base, ...env };
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit signal/code once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export function startServe(dataDir: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  return spawnRole(['serve', '--data', dataDir, '--port', '0'], env, /listening on (http:\/\/\S+) /);
}

/** `strata serve --role relay|workers` with the given environment (no HTTP). */
export function startRole(role: 'relay' | 'workers', env: Record<string, string>): Promise<ServerProcess> {
  return spawnRole(['serve', '--role', role], env, new RegExp(`Strata ${role} running \\((\\S+)`));
}

function spawnRole(args: string[], env: Record<string, string>, ready: RegExp): Promise<ServerProcess> {
  const child = spawn(process.execPath, [bin, ...args], {
    env: childEnv({ STRATA_LOG_LEVEL: 'warn', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 60 s:\n${out}`)), 60_000);
    const onData = () => {
      const m = ready.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({
        url: m[1]!,
        child,
        output: () => out,
        exited,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`serve exited before listening:\n${out}`));
    });
  });
}

/** Runs one command to its end; one still running after `timeoutMs` is killed (code null). */
export function runStrata(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}
