/**
 * One typed configuration from environment variables and CLI flags, validated at start-up with
 * messages that name the setting. Every engine defaults to the embedded one.
 */
import { resolve } from 'node:path';

export type EventStoreConfig =
  | { kind: 'fs'; root: string }
  | {
      kind: 's3';
      bucket: string;
      prefix: string;
      endpoint: string | undefined;
      region: string;
      forcePathStyle: boolean;
      createBucket: boolean;
      /** From AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN); else the SDK's default chain. */
      credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
    };

export type DatabaseConfig = { kind: 'pglite'; dir: string } | { kind: 'postgres'; url: string };
export type BusConfig =
  | { kind: 'embedded'; partitions: number }
  | { kind: 'kafka'; brokers: string[]; topic: string; partitions: number; clientId: string };
export type SearchConfig = { kind: 'postgres' } | { kind: 'opensearch'; url: string; indexPrefix: string };
export type GraphConfig = { kind: 'postgres' };

export interface StrataConfig {
  dataDir: string;
  eventStore: EventStoreConfig;
  database: DatabaseConfig;
  bus: BusConfig;
  search: SearchConfig;
  graph: GraphConfig;
  http: { host: string; port: number; bodyLimit: number };
  /** API tokens (STRATA_API_TOKENS=token:actor:role,…); none means an open API. */
  auth: { token: string; actor: string; role: 'reader' | 'writer' | 'admin' }[];
  /** STRATA_LOG_LEVEL for `serve`'s request log. */
  logLevel: string;
  relay: { partitions: number; intentTimeoutMs: number; leaseMs: number; maxAttempts: number };
  /** STRATA_FAULT: a crash point for fault tests (after-intent | after-commit | after-copy). */
  fault: 'after-intent' | 'after-commit' | 'after-copy' | undefined;
}

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(name, `'${raw}' must be an integer from ${min} to ${max}`);
  }
  return n;
}

function parseUrl(name: string, raw: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new ConfigError(name, `'${raw}' is not a URL`);
  }
}

/** `file:///path` or a bare path, or `s3://bucket/prefix?endpoint=…&region=…&forcePathStyle=true`. */
export function parseEventStore(
  raw: string | undefined,
  dataDir: string,
  env: Env = process.env,
): EventStoreConfig {
  const name = 'STRATA_EVENT_STORE';
  if (!raw) return { kind: 'fs', root: resolve(dataDir, 'store') };
  if (/^[a-z][a-z0-9+.-]*:/i.test(raw) && !raw.includes('://')) {
    throw new ConfigError(
      name,
      `'${raw}' looks like a URL but lacks '://' (file:///path, s3://bucket/prefix, or a plain path)`,
    );
  }
  if (!raw.includes('://')) return { kind: 'fs', root: resolve(raw) };
  const path = raw.replace(/^[a-z0-9]+:\/\/[^/?]*/i, '').split('?')[0] ?? '';
  if (path.includes('//') || path.split('/').some((s) => s === '..' || s === '.' || /^%2e/i.test(s))) {
    throw new ConfigError(name, `'${path}' must not contain '//', '.' or '..' segments`);
  }
  const url = parseUrl(name, raw);
  if (url.protocol === 'file:') return { kind: 'fs', root: resolve(decodeURIComponent(url.pathname)) };
  if (url.protocol !== 's3:')
    throw new ConfigError(name, `unsupported scheme '${url.protocol}' (use file:// or s3://)`);
  const bucket = url.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(name, `'${bucket}' is not a valid S3 bucket name`);
  }
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  if (endpoint) parseUrl(`${name} endpoint`, endpoint);
  const prefix = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
  return {
    kind: 's3',
    bucket,
    prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
    endpoint,
    region: url.searchParams.get('region') ?? env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: (url.searchParams.get('forcePathStyle') ?? (endpoint ? 'true' : 'false')) === 'true',
    createBucket: (url.searchParams.get('createBucket') ?? 'true') === 'true',
    credentials:
      env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          }
        : undefined,
  };
}

export interface ConfigOverrides {
  dataDir?: string;
  port?: number;
  host?: string;
}

export function loadConfig(env: Env = process.env, overrides: ConfigOverrides = {}): StrataConfig {
  const dataDir = resolve(overrides.dataDir ?? env.STRATA_DATA_DIR ?? '.strata-data');
  const dbUrl = env.STRATA_DATABASE_URL;
  let database: DatabaseConfig = { kind: 'pglite', dir: resolve(dataDir, 'pg') };
  if (dbUrl) {
    const u = parseUrl('STRATA_DATABASE_URL', dbUrl);
    if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
      throw new ConfigError('STRATA_DATABASE_URL', `unsupported scheme '${u.protocol}' (use postgres://)`);
    }
    database = { kind: 'postgres', url: dbUrl };
  }
  const busPartitions = integer(env, 'STRATA_BUS_PARTITIONS', 8, 1, 1024);
  let bus: BusConfig = { kind: 'embedded', partitions: busPartitions };
  if (env.STRATA_KAFKA_BROKERS) {
    const brokers = env.STRATA_KAFKA_BROKERS.split(',')
      .map((b) => b.trim())
      .filter(Boolean);
    for (const b of brokers) {
      if (!/^[^:\s]+:\d{1,5}$/.test(b))
        throw new ConfigError('STRATA_KAFKA_BROKERS', `'${b}' must be host:port`);
    }
    bus = {
      kind: 'kafka',
      brokers,
      topic: env.STRATA_KAFKA_TOPIC ?? 'strata.events',
      partitions: busPartitions,
      clientId: env.STRATA_KAFKA_CLIENT_ID ?? 'strata',
    };
  }
  let search: SearchConfig = { kind: 'postgres' };
  if (env.STRATA_SEARCH_URL) {
    const u = parseUrl('STRATA_SEARCH_URL', env.STRATA_SEARCH_URL);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new ConfigError(
        'STRATA_SEARCH_URL',
        `unsupported scheme '${u.protocol}' (use http:// or https://)`,
      );
    }
    const indexPrefix = env.STRATA_SEARCH_INDEX_PREFIX ?? 'strata';
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(indexPrefix)) {
      throw new ConfigError(
        'STRATA_SEARCH_INDEX_PREFIX',
        `'${indexPrefix}' must be lower-case letters, digits, - or _`,
      );
    }
    search = { kind: 'opensearch', url: env.STRATA_SEARCH_URL, indexPrefix };
  }
  const graphKind = env.STRATA_GRAPH ?? 'postgres';
  if (graphKind !== 'postgres') {
    throw new ConfigError('STRATA_GRAPH', `'${graphKind}' is not supported yet (postgres)`);
  }
  const logLevel = env.STRATA_LOG_LEVEL ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(
      'STRATA_LOG_LEVEL',
      `'${logLevel}' must be fatal, error, warn, info, debug, trace or silent`,
    );
  }
  const fault = env.STRATA_FAULT;
  if (
    fault !== undefined &&
    fault !== '' &&
    !['after-intent', 'after-commit', 'after-copy'].includes(fault)
  ) {
    throw new ConfigError('STRATA_FAULT', `'${fault}' must be after-intent, after-commit or after-copy`);
  }
  const auth = (env.STRATA_API_TOKENS ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((entry) => {
      const [token, actor, role] = entry.split(':');
      if (!token || !actor || !role || !['reader', 'writer', 'admin'].includes(role) || token.length < 16) {
        throw new ConfigError(
          'STRATA_API_TOKENS',
          'each entry must be token:actor:role with a token of 16+ characters and role reader, writer or admin',
        );
      }
      return { token, actor, role: role as 'reader' | 'writer' | 'admin' };
    });
  return {
    dataDir,
    auth,
    logLevel,
    eventStore: parseEventStore(env.STRATA_EVENT_STORE, dataDir, env),
    database,
    bus,
    search,
    graph: { kind: 'postgres' },
    http: {
      host: overrides.host ?? env.STRATA_HOST ?? '127.0.0.1',
      port: overrides.port ?? integer(env, 'STRATA_PORT', 4100, 0, 65535),
      bodyLimit: integer(env, 'STRATA_BODY_LIMIT', 1_048_576, 1024, 100 * 1_048_576),
    },
    relay: {
      partitions: integer(env, 'STRATA_RELAY_PARTITIONS', 16, 1, 1024),
      intentTimeoutMs: integer(env, 'STRATA_INTENT_TIMEOUT_MS', 30_000, 100, 3_600_000),
      leaseMs: integer(env, 'STRATA_LEASE_MS', 10_000, 500, 600_000),
      maxAttempts: integer(env, 'STRATA_MAX_ATTEMPTS', 10, 1, 1000),
    },
    fault: fault ? (fault as StrataConfig['fault']) : undefined,
  };
}

/** Every STRATA_* setting Strata reads (the engine scripts' own STRATA_* variables are theirs). */
const KNOWN = new Set([
  'STRATA_DATA_DIR',
  'STRATA_EVENT_STORE',
  'STRATA_DATABASE_URL',
  'STRATA_KAFKA_BROKERS',
  'STRATA_KAFKA_TOPIC',
  'STRATA_KAFKA_CLIENT_ID',
  'STRATA_BUS_PARTITIONS',
  'STRATA_SEARCH_URL',
  'STRATA_SEARCH_INDEX_PREFIX',
  'STRATA_GRAPH',
  'STRATA_HOST',
  'STRATA_PORT',
  'STRATA_BODY_LIMIT',
  'STRATA_API_TOKENS',
  'STRATA_RELAY_PARTITIONS',
  'STRATA_INTENT_TIMEOUT_MS',
  'STRATA_LEASE_MS',
  'STRATA_MAX_ATTEMPTS',
  'STRATA_FAULT',
  'STRATA_LOG_LEVEL',
  'STRATA_TOKEN',
]);
const OTHERS = /^STRATA_(ENGINES_|PG_|KAFKA_PORT|OS_|S3_|TEST_|E2E_)/;

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)] as number[]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(
        d[i - 1]![j]! + 1,
        d[i]![j - 1]! + 1,
        d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  }
  return d[a.length]![b.length]!;
}

/** Warnings for STRATA_* variables nobody reads, most likely typos, with the closest real name. */
export function unknownSettings(env: Env): string[] {
  return Object.keys(env)
    .filter((k) => k.startsWith('STRATA_') && !KNOWN.has(k) && !OTHERS.test(k))
    .map((k) => {
      const best = [...KNOWN].sort((a, b) => distance(k, a) - distance(k, b))[0]!;
      return `${k} is not a Strata setting${distance(k, best) <= 3 ? ` (did you mean ${best}?)` : ''}`;
    });
}
