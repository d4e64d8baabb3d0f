/**
 * The `strata` command. Each subcommand parses flags, builds the config, and calls the app layer;
 * failures print one line naming the problem (no stack trace) and exit non-zero.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import { startStrata } from '../api/listen.js';
import { type ProjectionName, type RebuildSummary, rebuild } from '../app/rebuild.js';
import { openStrata, probeEngines, type Strata } from '../app/runtime.js';
import { verify } from '../app/verify.js';
import { StrataApiError, StrataClient } from '../client/index.js';
import {
  ConfigError,
  type ConfigOverrides,
  loadConfig,
  type StrataConfig,
  unknownSettings,
} from '../config.js';
import { isStrataError } from '../core/errors.js';
import type { EventEnvelope } from '../core/event.js';
import { parseInstant } from '../core/instant.js';
import { ensureOntology, importDataSet } from '../demo/importer.js';
import { runDemo } from '../demo/run-demo.js';
import { type DataSet, worldDataSet, worldOntology } from '../demo/world-countries.js';
import { partitionReport } from './partition-report.js';
import { progressBar } from './progress.js';

// The locked AWS SDK supports Node 20; its notice concerns releases after January 2027 (see README).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// `strata … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

function packageVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

const out = (line = '') => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

interface CommonFlags {
  data?: string;
  port?: string;
  host?: string;
}

function config(flags: CommonFlags): StrataConfig {
  const overrides: ConfigOverrides = { dataDir: flags.data, host: flags.host };
  if (flags.port !== undefined) {
    const port = Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ConfigError('--port', `'${flags.port}' must be an integer from 0 to 65535`);
    }
    overrides.port = port;
  }
  for (const warning of unknownSettings(process.env)) err(`strata: warning: ${warning}`);
  return loadConfig(process.env, overrides);
}

/** Opens Strata for one command; an embedded data folder must already exist (a typo is not a new folder). */
/** Commands on an existing embedded folder must not create an empty one by mistake. */
function assertDataFolder(c: StrataConfig): void {
  if (c.database.kind === 'pglite' && !existsSync(c.dataDir)) {
    throw new ConfigError('--data', `there is no data folder at ${c.dataDir} (STRATA_DATA_DIR)`);
  }
}

async function withStrata<T>(flags: CommonFlags | StrataConfig, fn: (s: Strata) => Promise<T>): Promise<T> {
  const c = 'eventStore' in flags ? flags : config(flags);
  assertDataFolder(c);
  const strata = await openStrata(c, {
    log: (m, e) => err(`${m}${e ? `: ${(e as Error).message}` : ''}`),
  });
  try {
    return await fn(strata);
  } finally {
    await strata.close();
  }
}

const counted = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

const dataOption = new Option('--data <dir>', 'embedded data folder (STRATA_DATA_DIR)');

const program = new Command('strata')
  .version(packageVersion(), '-v, --version')
  .description(
    'Strata: an event-sourced ontology; every change is an immutable event in S3-compatible storage',
  )
  .showHelpAfterError();

program
  .command('serve')
  .description(
    'run Strata: the HTTP API, the relay and the projection workers (or one role, to scale them apart)',
  )
  .addOption(dataOption)
  .option('--port <port>', 'HTTP port (STRATA_PORT, default 4100)')
  .option('--host <host>', 'HTTP host (STRATA_HOST, default 127.0.0.1)')
  .addOption(
    new Option(
      '--role <role>',
      'all: everything in one process; api: HTTP only; relay: outbox → bus; workers: bus → projections',
    )
      .choices(['all', 'api', 'relay', 'workers'])
      .default('all'),
  )
  .action(async (flags: CommonFlags & { role: 'all' | 'api' | 'relay' | 'workers' }) => {
    const c = config(flags);
    if (flags.role !== 'all' && c.database.kind === 'pglite') {
      throw new ConfigError(
        '--role',
        `'${flags.role}' needs shared engines (STRATA_DATABASE_URL at least): embedded mode is one process, use --role all`,
      );
    }
    const stop = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    if (flags.role === 'all' || flags.role === 'api') {
      const running = await startStrata(c, {
        logger: { level: c.logLevel },
        background: flags.role === 'all',
      });
      out(
        `Strata ${flags.role === 'all' ? '' : 'API '}listening on ${running.url} (OpenAPI at ${running.url}/docs)`,
      );
      await stop;
      await running.stop();
      return;
    }
    await withStrata(c, async (s) => {
      await s.startBackground({ relay: flags.role === 'relay', workers: flags.role === 'workers' });
      out(
        `Strata ${flags.role} running (${flags.role === 'relay' ? s.relay.owner : s.workers.map((w) => w.group).join(', ')})`,
      );
      await stop;
    });
  });

program
  .command('demo')
  .description('start a fresh Strata, import every country of the world, answer questions')
  .option('--once', 'exit after the answers instead of serving')
  .option('--port <port>', 'HTTP port', '4100')
  .option('--data <dir>', 'embedded data folder (wiped first)', '.strata-demo')
  .addOption(
    new Option('--engines <where>', 'embedded (one process) or local (real engines from scripts/engines)')
      .choices(['embedded', 'local'])
      .default('embedded'),
  )
  .action(async (flags: { once?: boolean; port: string; data: string; engines: 'embedded' | 'local' }) => {
    process.exitCode = await runDemo({
      once: Boolean(flags.once),
      port: Number(flags.port),
      dataDir: flags.data,
      engines: flags.engines,
    });
  });

program
  .command('import <source>')
  .description("import a data set through the API: 'world-countries' or a JSON file {objects, links}")
  .requiredOption('--url <url>', 'the Strata API, e.g. http://127.0.0.1:4100')
  .option('--token <token>', 'bearer token (STRATA_TOKEN)')
  .option('--concurrency <n>', 'parallel commands', '8')
  .action(async (source: string, flags: { url: string; token?: string; concurrency: string }) => {
    const client = new StrataClient(flags.url, { token: flags.token ?? process.env.STRATA_TOKEN });
    let data: DataSet;
    if (source === 'world-countries') {
      // A user may have extended the demo types since: add what is missing, remove nothing.
      await ensureOntology(client, worldOntology);
      data = worldDataSet();
    } else {
      data = JSON.parse(await readFile(source, 'utf8')) as DataSet;
      if (!Array.isArray(data?.objects) || !Array.isArray(data?.links)) {
        throw new ConfigError(
          'import',
          `${source} must hold {"objects": [{"type", "properties"}], "links": [{"type", "id", "linkType", "targetId"}]}`,
        );
      }
    }
    const ontology = await client.getOntology();
    const pks = Object.fromEntries(ontology.objectTypes.map((t) => [t.apiName, t.primaryKey]));
    const bar = progressBar('import', data.objects.length + data.links.length);
    const summary = await importDataSet(
      client,
      data,
      pks,
      (d, t) => bar.tick(d, t),
      Number(flags.concurrency),
    );
    bar.stop();
    out(
      `imported ${counted(summary.objects, 'new object')} and ${counted(summary.links, 'new link')} in ${summary.ms} ms (${summary.deduplicated} already there)`,
    );
  });

program
  .command('replay')
  .description('re-project the events that occurred since a date (idempotent), or print them as NDJSON')
  .requiredOption('--from <date>', 'YYYY-MM-DD (UTC) or ISO-8601 timestamp with a zone, 1970 to 9999')
  .option('--to <date>', 'same forms; a bare date means the end of that day (default now)')
  .option('--ndjson', 'print the events instead of projecting them')
  .addOption(dataOption)
  .action(async (flags: CommonFlags & { from: string; to?: string; ndjson?: boolean }) => {
    // Named as flags, and refused before any engine is opened.
    parseInstant(flags.from, '--from');
    if (flags.to !== undefined) parseInstant(flags.to, '--to', { bareDate: 'end' });
    await withStrata(flags, async (s) => {
      const events = s.queries.eventsByDate(flags.from, flags.to ?? new Date().toISOString());
      if (flags.ndjson) {
        for await (const e of events) out(JSON.stringify(e));
        return;
      }
      const bar = progressBar('replay');
      let batch: EventEnvelope[] = [];
      let n = 0;
      let applied = 0;
      const flush = async () => {
        applied += (await s.graphProjector.project(batch)).applied;
        applied += (await s.searchProjector.project(batch)).applied;
        n += batch.length;
        batch = [];
        bar.tick(n);
      };
      for await (const e of events) {
        batch.push(e);
        if (batch.length >= 500) await flush();
      }
      await flush();
      bar.stop();
      out(`replayed ${n} events; ${applied} projection writes were needed (the rest were already applied)`);
    });
  });

program
  .command('rebuild')
  .description('wipe projections and rebuild them from the event store')
  .argument('[what]', 'search | graph | all', 'all')
  .addOption(dataOption)
  .option('--url <url>', 'ask a running server instead of opening the data folder')
  .action(async (what: string, flags: CommonFlags & { url?: string }) => {
    if (!['search', 'graph', 'all'].includes(what))
      throw new ConfigError('rebuild', `'${what}' must be search, graph or all`);
    const targets: ProjectionName[] = what === 'all' ? ['graph', 'search'] : [what as ProjectionName];
    const summary = flags.url
      ? await new StrataClient(flags.url, { token: process.env.STRATA_TOKEN }).admin<RebuildSummary>(
          'POST',
          'rebuild',
          { targets },
        )
      : await withStrata(flags, async (s) => {
          const bar = progressBar(`rebuild ${targets.join('+')}`);
          const done = await rebuild(s, targets, bar);
          bar.stop();
          return done;
        });
    out(
      `rebuilt ${targets.join(' and ')} from ${summary.aggregates} aggregates (${summary.events} events) in ${summary.ms} ms`,
    );
  });

program
  .command('verify')
  .description('compare the projections with the event store; exit 1 on drift')
  .addOption(dataOption)
  .option('--url <url>', 'ask a running server instead of opening the data folder')
  .action(async (flags: CommonFlags & { url?: string }) => {
    const report = flags.url
      ? await new StrataClient(flags.url, { token: process.env.STRATA_TOKEN }).admin<
          Awaited<ReturnType<typeof verify>>
        >('POST', 'verify')
      : await withStrata(flags, async (s) => {
          const bar = progressBar('verify');
          const r = await verify(s, bar);
          bar.stop();
          return r;
        });
    for (const d of report.drift) out(`DRIFT ${d.projection} ${d.type}/${d.id}: ${d.problem}`);
    out(
      `verified ${report.aggregates} aggregates: ${report.drift.length === 0 ? 'no drift' : `${report.drift.length} drift`}`,
    );
    if (report.drift.length) process.exitCode = 1;
  });

program
  .command('outbox')
  .description(
    'outbox state: rows, dead letters, projection failures, relay partitions and their leases, consumer lag',
  )
  .argument('[action]', 'status', 'status')
  .addOption(dataOption)
  .action(async (action: string, flags: CommonFlags) => {
    if (action !== 'status') throw new ConfigError('outbox', `'${action}' is not an action (status)`);
    await withStrata(flags, async (s) => {
      const stats = await s.outbox.stats();
      out(
        `pending ${stats.pending}, ready ${stats.ready}, dead letters ${stats.deadLetters}, projection failures ${stats.projectionFailures}`,
      );
      if (stats.oldestReadyAgeMs !== null) out(`oldest ready row: ${stats.oldestReadyAgeMs} ms`);
      for (const line of partitionReport(stats.partitions, new Date())) out(line);
      for (const d of await s.outbox.deadLetters(50)) {
        out(
          `dead letter #${d.id} ${d.aggregateType}/${d.aggregateId} v${d.version} after ${d.attempts} attempts: ${d.lastError}`,
        );
      }
      for (const f of await s.outbox.projectionFailures(50)) {
        out(`${f.projection} could not write ${f.aggregateType}/${f.aggregateId} v${f.version}: ${f.error}`);
      }
      for (const g of s.workers) {
        const lag = (await s.bus.lag(g.group)).reduce((n, l) => n + l.lag, 0);
        out(`consumer group ${g.group}: lag ${lag}`);
      }
    });
  });

program
  .command('engines')
  .description('what Strata is connected to, and whether each engine answers')
  .addOption(dataOption)
  .action(async (flags: CommonFlags) => {
    const c = config(flags);
    assertDataFolder(c);
    const engines = await probeEngines(c);
    for (const e of engines)
      out(`${e.ok ? 'ok  ' : 'DOWN'} ${e.role.padEnd(12)} ${e.engine}${e.ok ? '' : ` — ${e.detail}`}`);
    if (engines.some((e) => !e.ok)) process.exitCode = 1;
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof ConfigError) err(`strata: configuration error: ${e.message}`);
  else if (isStrataError(e)) err(`strata: ${e.message}`);
  else if (e instanceof StrataApiError) {
    err(`strata: ${e.message}`);
    for (const v of e.problem.violations ?? []) err(`  ${v.path}: ${v.message}`);
  } else err(`strata: ${(e as Error).message ?? String(e)}`);
  process.exitCode = process.exitCode || 2;
}
