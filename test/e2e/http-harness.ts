/**
 * Shared set-up of the HTTP end-to-end tests: one whole Strata per test file (temp data
 * folder, relay and workers running, listening on port 0), plus helpers that look at responses
 * only through HTTP and at the event store only to prove that nothing was written.
 */

import { request as httpRequest } from 'node:http';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { expect } from 'vitest';
import { type RunningStrata, startStrata } from '../../src/api/listen.js';
import type { Strata } from '../../src/app/runtime.js';
import { dropFresh, freshConfig } from '../support/shape.js';

export interface E2E {
  strata: Strata;
  app: FastifyInstance;
  /** Base URL of the listening server, e.g. http://127.0.0.1:41315 */
  url: string;
  stop(): Promise<void>;
}

/** Embedded by default; on the real engines with STRATA_E2E_SHAPE=production (npm run test:all). */
export async function startE2E(env: Record<string, string> = {}): Promise<E2E> {
  const config = await freshConfig({ STRATA_HOST: '127.0.0.1', ...env });
  let running: RunningStrata;
  try {
    running = await startStrata(config);
  } catch (e) {
    await dropFresh(config);
    throw e;
  }
  return {
    strata: running.strata,
    app: running.app,
    url: running.url,
    stop: async () => {
      await running.stop();
      await dropFresh(config);
    },
  };
}

/** A response reduced to what the tests assert on, whatever transport produced it. */
export interface Res {
  status: number;
  /** Media type without parameters, e.g. application/problem+json. */
  type: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: a parsed JSON body, asserted field by field
  body: any;
}

function reduce(status: number, headers: Res['headers'], text: string): Res {
  const contentType = headers['content-type'];
  const type = typeof contentType === 'string' ? contentType.split(';')[0]!.trim() : undefined;
  let body: unknown;
  if (type?.endsWith('json') && text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  return { status, type, headers, text, body };
}

/** Never a 500: every helper fails the test on a server error unless the test expects one (readyz). */
function noServerError(res: Res, what: string, allow5xx: boolean): Res {
  if (!allow5xx)
    expect(res.status, `${what} answered ${res.status}: ${res.text.slice(0, 500)}`).toBeLessThan(500);
  return res;
}

/** app.inject, reduced. */
export async function inject(
  app: FastifyInstance,
  opts: InjectOptions,
  { allow5xx = false } = {},
): Promise<Res> {
  const r = await app.inject(opts);
  return noServerError(
    reduce(r.statusCode, r.headers as Res['headers'], r.body),
    `${opts.method} ${opts.url}`,
    allow5xx,
  );
}

/**
 * One request over a real socket with node:http, which sends the path byte for byte (fetch and
 * URL would normalise `..` and `%2E%2E` segments away).
 */
export function raw(
  baseUrl: string,
  method: string,
  path: string,
  opts: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Res> {
  const base = new URL(baseUrl);
  return new Promise<Res>((resolve, reject) => {
    let answered = false;
    // A fresh connection per request: the server may close one after refusing a request.
    const req = httpRequest(
      { host: base.hostname, port: base.port, method, path, headers: opts.headers ?? {}, agent: false },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve(reduce(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString('utf8'))),
        );
        res.on('error', reject);
      },
    );
    // A server that answers early (413) may reset the connection while the body is still being sent.
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  }).then((res) => noServerError(res, `${method} ${path.slice(0, 200)}`, false));
}

/** Asserts a problem+json error with this status and code, and returns its body. */
export function expectProblem(res: Res, status: number, code: string) {
  expect({ status: res.status, type: res.type, code: res.body?.code, bodyStatus: res.body?.status }).toEqual({
    status,
    type: 'application/problem+json',
    code,
    bodyStatus: status,
  });
  expect(res.body.type).toMatch(/^https:\/\/strata\.dev\/problems\/[a-z-]+$/);
  expect(typeof res.body.title).toBe('string');
  expect(typeof res.body.detail).toBe('string');
  return res.body as {
    code: string;
    status: number;
    detail: string;
    violations?: { path: string; message: string }[];
  };
}

/** The violation paths of a problem, sorted. */
export function violationPaths(res: Res): string[] {
  return ((res.body?.violations ?? []) as { path: string }[]).map((v) => v.path).sort();
}

/**
 * Everything a command can leave behind: every committed version of every aggregate (on any event
 * store) and the outbox counts. Taken once the system is idle, so two equal snapshots mean that
 * nothing was written in between.
 */
export async function writtenState(
  strata: Strata,
): Promise<{ keys: string[]; pending: number; ready: number; deadLetters: number }> {
  await strata.waitForIdle();
  const keys: string[] = [];
  for await (const ref of strata.store.listAggregates()) {
    for await (const e of strata.store.readStream(ref))
      keys.push(`${ref.type}/${ref.id}@${e.version}:${e.event_id}`);
  }
  const s = await strata.outbox.stats();
  return { keys: keys.sort(), pending: s.pending, ready: s.ready, deadLetters: s.deadLetters };
}

/** Runs `act` and asserts that it left no key in the event store and no outbox row behind. */
export async function expectNothingWritten<T>(strata: Strata, act: () => Promise<T>): Promise<T> {
  const before = await writtenState(strata);
  const result = await act();
  // No waitForIdle here first: a pending intent left by a rejected command must show up.
  const s = await strata.outbox.stats();
  expect({ pending: s.pending, ready: s.ready }).toEqual({ pending: 0, ready: 0 });
  expect(await writtenState(strata)).toEqual(before);
  return result;
}

/** Parses an NDJSON body. */
export function ndjson<T = unknown>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** A run-unique suffix so IDs never collide across tests of one file. */
let counter = 0;
export function uid(prefix: string): string {
  counter++;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export const json = { 'content-type': 'application/json' } as const;
