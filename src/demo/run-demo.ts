/**
 * `strata demo`: a fresh Strata fed with every country of the world through the public API,
 * then real questions answered by the graph and search projections, each checked against the
 * source data, and a time-travel example.
 */
import { rm } from 'node:fs/promises';
import { type RunningStrata, startStrata } from '../api/listen.js';
import { assertDataDirFree } from '../app/runtime.js';
import { verify } from '../app/verify.js';
import { progressBar } from '../cli/progress.js';
import { StrataClient } from '../client/index.js';
import { loadConfig, type StrataConfig } from '../config.js';
import { importDataSet } from './importer.js';
import { dropNamespace, localEngines } from './local-engines.js';
import { expectedAnswers, loadWorldCountries, worldDataSet, worldOntology } from './world-countries.js';

export interface DemoOptions {
  once: boolean;
  port: number;
  dataDir: string;
  engines: 'embedded' | 'local';
}

const say = (line = '') => process.stdout.write(`${line}\n`);

function check(label: string, actual: unknown, expected: unknown): boolean {
  const ok = JSON.stringify(actual) === JSON.stringify(expected);
  say(
    `   ${ok ? '✓' : '✗'} ${label}${ok ? ' (matches the source data)' : ` — expected ${JSON.stringify(expected)}`}`,
  );
  return ok;
}

export async function runDemo(options: DemoOptions): Promise<number> {
  // Embedded means embedded, whatever engine settings the shell exports.
  // On the real engines: a namespace of its own, dropped when the demo ends.
  const ns = options.engines === 'local' ? `demo_${Date.now().toString(36)}` : undefined;
  const env = ns
    ? await localEngines(say, ns)
    : { STRATA_EVENT_STORE: '', STRATA_DATABASE_URL: '', STRATA_KAFKA_BROKERS: '', STRATA_SEARCH_URL: '' };
  if (options.engines === 'embedded') {
    // Never wipe the folder of a Strata that is still running on it (a demo started earlier).
    await assertDataDirFree(options.dataDir);
    await rm(options.dataDir, { recursive: true, force: true });
  }
  // Ctrl+C at any moment (the import takes a minute) still stops Strata and drops the namespace.
  let interrupt: () => void = () => undefined;
  const interrupted = new Promise<number>((resolve) => {
    interrupt = () => resolve(130);
  });
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let config: StrataConfig | undefined;
  let running: RunningStrata | undefined;
  try {
    config = loadConfig(
      { ...process.env, ...env, STRATA_FAULT: '' },
      { dataDir: options.dataDir, port: options.port },
    );
    running = await startStrata(config, {
      log: (m, e) => process.stderr.write(`${m}${e ? `: ${(e as Error).message}` : ''}\n`),
    });
    const work = demo(running, options, interrupted);
    work.catch(() => undefined); // once interrupted, its failing requests are expected
    return await Promise.race([work, interrupted]);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await running?.stop();
    if (ns && config) {
      await dropNamespace(config, ns).catch((e: unknown) =>
        say(`Could not remove the demo's namespace ${ns} from the engines: ${(e as Error).message}`),
      );
    }
  }
}

/** Imports the data, prints the answers, then serves until `stop` (unless --once). */
async function demo(running: RunningStrata, options: DemoOptions, stop: Promise<number>): Promise<number> {
  const { strata, url } = running;
  const client = new StrataClient(url);
  let allOk = true;
  say(`Strata is running at ${url}`);
  for (const e of await strata.engines()) say(`  ${e.role.padEnd(12)} ${e.engine}`);
  say();
  await client.putOntology(worldOntology);
  const countries = loadWorldCountries();
  const data = worldDataSet(countries);
  const pks = Object.fromEntries(worldOntology.objectTypes.map((t) => [t.apiName, t.primaryKey]));
  const bar = progressBar('Importing world-countries', data.objects.length + data.links.length);
  const summary = await importDataSet(client, data, pks, (d, t) => bar.tick(d, t));
  bar.stop();
  const count = (type: string) => data.objects.filter((o) => o.type === type).length;
  const linkCount = (lt: string) => data.links.filter((l) => l.linkType === lt).length;
  say(
    `Imported ${summary.objects} objects (${['Country', 'Region', 'Subregion', 'Currency', 'Language'].map((t) => `${count(t)} ${t}`).join(', ')})`,
  );
  say(
    `     and ${summary.links} links (${['borders', 'inSubregion', 'subregionOf', 'usesCurrency', 'speaks'].map((l) => `${linkCount(l)} ${l}`).join(', ')}) in ${(summary.ms / 1000).toFixed(1)} s through POST /v1/objects…`,
  );
  await strata.waitForIdle(300_000);
  const projected = await client.search({ type: 'Country', page: { size: 0 } });
  say(`Projections caught up: ${projected.total} Country documents searchable.`);
  say();

  const expected = expectedAnswers(countries);
  say("1. France's land neighbours (graph traversal, borders, depth 1):");
  const fra = await client.traverse({ type: 'Country', id: 'FRA', linkTypes: ['borders'], depth: 1 });
  const fraNames = fra.nodes.map((n) => n.title).sort();
  say(`   ${fraNames.join(', ')}`);
  allOk = check(`${fraNames.length} neighbours`, fraNames, expected.franceNeighbours) && allOk;

  say('2. Countries within two borders of Germany (depth 2):');
  const deu = await client.traverse({ type: 'Country', id: 'DEU', linkTypes: ['borders'], depth: 2 });
  const d1 = deu.nodes.filter((n) => n.depth === 1).map((n) => n.title);
  const d2 = deu.nodes.filter((n) => n.depth === 2).map((n) => n.title);
  say(`   ${d1.length} at one border: ${d1.join(', ')}`);
  say(`   ${d2.length} at two borders: ${d2.join(', ')}`);
  allOk =
    check(
      `${deu.nodes.length} countries`,
      deu.nodes.map((n) => n.title).sort(),
      expected.withinTwoOfGermany,
    ) && allOk;

  say('3. Landlocked countries of Africa (search: region = Africa, landlocked = true):');
  const landlocked = await client.search({
    type: 'Country',
    filters: [
      { field: 'region', eq: 'Africa' },
      { field: 'landlocked', eq: true },
    ],
    sort: [{ field: 'name' }],
    page: { size: 100 },
  });
  const llNames = landlocked.hits.map((h) => h.title);
  say(`   ${llNames.join(', ')}`);
  allOk = check(`${landlocked.total} countries`, [...llNames].sort(), expected.landlockedAfrica) && allOk;

  say('4. How many countries use the euro (terms aggregation over links.usesCurrency):');
  const currencies = await client.search({
    type: 'Country',
    page: { size: 0 },
    aggregations: [{ name: 'currencies', terms: 'links.usesCurrency', size: 5 }],
  });
  const buckets = currencies.aggregations.currencies ?? [];
  say(`   top currencies: ${buckets.map((b) => `${b.key} ${b.count}`).join(', ')}`);
  const eur = buckets.find((b) => b.key === 'EUR')?.count;
  allOk = check(`${eur} countries use EUR`, eur, expected.euroCountries) && allOk;

  say('5. Time travel: rename Czechia, then read it as of before the rename:');
  const before = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 5));
  const renamed = await client.updateObject('Country', 'CZE', { name: 'Czech Republic' });
  const then = await client.getObject('Country', 'CZE', before);
  const now = await client.getObject('Country', 'CZE');
  say(`   now (version ${now.version}): ${now.properties.name}`);
  say(`   as of ${before} (version ${then.version}): ${then.properties.name}`);
  const history = await client.history('Country', 'CZE');
  say(`   history: ${history.events.map((e) => `v${e.version} ${e.event_type}`).join(', ')}`);
  allOk =
    check(
      'asOf shows the old name',
      [then.properties.name, now.properties.name, renamed.version],
      ['Czechia', 'Czech Republic', now.version],
    ) && allOk;

  await strata.waitForIdle(60_000);
  const report = await verify(strata);
  say();
  say(
    `strata verify: ${report.aggregates} aggregates, ${report.drift.length} drift between projections and the event store.`,
  );
  allOk = report.drift.length === 0 && allOk;
  say(allOk ? 'All answers match the source data.' : 'SOME ANSWERS DID NOT MATCH (see ✗ above).');
  say();
  if (options.once) return allOk ? 0 : 1;

  say(`The API is at ${url} (OpenAPI: ${url}/docs). Try:`);
  say(`  curl -s ${url}/v1/objects/Country/FRA`);
  say(`  curl -s '${url}/v1/graph/traverse?type=Country&id=DEU&linkTypes=borders&depth=2'`);
  say(
    `  curl -s -X POST ${url}/v1/search -H 'content-type: application/json' -d '{"type":"Country","text":"island","page":{"size":5}}'`,
  );
  say(`  curl -s '${url}/v1/objects/Country/CZE?asOf=${before}'`);
  say(`  curl -s '${url}/v1/events?from=${before.slice(0, 10)}' | head -3`);
  say('Press Ctrl+C to stop.');
  await stop;
  return 0;
}
