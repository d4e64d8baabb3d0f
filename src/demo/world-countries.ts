/**
 * The demo data set: the `world-countries` package (ODbL-1.0, by Mohammed Le Doze), mapped to an
 * ontology of Country, Region, Subregion, Currency and Language with five link types.
 */
import { createRequire } from 'node:module';
import type { Ontology } from '../core/ontology.js';

export interface WorldCountry {
  name: { common: string; official: string };
  cca2: string;
  ccn3: string;
  cca3: string;
  independent: boolean | null;
  unMember: boolean;
  currencies?: Record<string, { name: string; symbol?: string }>;
  capital?: string[];
  region: string;
  subregion: string;
  languages?: Record<string, string>;
  latlng: number[];
  landlocked: boolean;
  borders: string[];
  area: number;
  flag: string;
  tld?: string[];
}

export function loadWorldCountries(): WorldCountry[] {
  const require = createRequire(import.meta.url);
  return require('world-countries/countries.json') as WorldCountry[];
}

export const worldOntology: Ontology = {
  objectTypes: [
    {
      apiName: 'Region',
      displayName: 'Region',
      primaryKey: 'name',
      titleProperty: 'name',
      properties: { name: { type: 'string', required: true } },
    },
    {
      apiName: 'Subregion',
      displayName: 'Subregion',
      primaryKey: 'name',
      titleProperty: 'name',
      properties: { name: { type: 'string', required: true }, region: { type: 'string' } },
    },
    {
      apiName: 'Currency',
      displayName: 'Currency',
      primaryKey: 'code',
      titleProperty: 'name',
      properties: {
        code: { type: 'string', required: true },
        name: { type: 'string', required: true },
        symbol: { type: 'string' },
      },
    },
    {
      apiName: 'Language',
      displayName: 'Language',
      primaryKey: 'code',
      titleProperty: 'name',
      properties: { code: { type: 'string', required: true }, name: { type: 'string', required: true } },
    },
    {
      apiName: 'Country',
      displayName: 'Country',
      primaryKey: 'cca3',
      titleProperty: 'name',
      properties: {
        cca3: { type: 'string', required: true, description: 'ISO 3166-1 alpha-3' },
        cca2: { type: 'string' },
        ccn3: { type: 'string' },
        name: { type: 'string', required: true },
        officialName: { type: 'string' },
        capital: { type: 'string', array: true },
        region: { type: 'enum', values: ['Africa', 'Americas', 'Antarctic', 'Asia', 'Europe', 'Oceania'] },
        subregion: { type: 'string' },
        landlocked: { type: 'boolean', required: true },
        independent: { type: 'boolean' },
        unMember: { type: 'boolean' },
        area: { type: 'double' },
        location: { type: 'geopoint' },
        flag: { type: 'string' },
        tld: { type: 'string', array: true },
      },
    },
  ],
  linkTypes: [
    { apiName: 'borders', from: 'Country', to: 'Country', cardinality: 'many', inverseName: 'borders' },
    {
      apiName: 'inSubregion',
      from: 'Country',
      to: 'Subregion',
      cardinality: 'one',
      inverseName: 'countries',
    },
    {
      apiName: 'subregionOf',
      from: 'Subregion',
      to: 'Region',
      cardinality: 'one',
      inverseName: 'subregions',
    },
    { apiName: 'usesCurrency', from: 'Country', to: 'Currency', cardinality: 'many', inverseName: 'usedBy' },
    { apiName: 'speaks', from: 'Country', to: 'Language', cardinality: 'many', inverseName: 'spokenIn' },
  ],
};

export interface ObjectInput {
  type: string;
  properties: Record<string, unknown>;
}

export interface LinkInput {
  type: string;
  id: string;
  linkType: string;
  targetId: string;
}

export interface DataSet {
  objects: ObjectInput[];
  links: LinkInput[];
}

/** Objects and links of the whole data set, in an order where every link target exists first. */
export function worldDataSet(countries: WorldCountry[] = loadWorldCountries()): DataSet {
  const regions = new Set<string>();
  const subregions = new Map<string, string>();
  const currencies = new Map<string, { name: string; symbol?: string }>();
  const languages = new Map<string, string>();
  for (const c of countries) {
    regions.add(c.region);
    if (c.subregion) subregions.set(c.subregion, c.region);
    for (const [code, cur] of Object.entries(c.currencies ?? {}))
      if (!currencies.has(code)) currencies.set(code, cur);
    for (const [code, name] of Object.entries(c.languages ?? {}))
      if (!languages.has(code)) languages.set(code, name);
  }
  const objects: ObjectInput[] = [
    ...[...regions].sort().map((name) => ({ type: 'Region', properties: { name } })),
    ...[...subregions].sort().map(([name, region]) => ({ type: 'Subregion', properties: { name, region } })),
    ...[...currencies].sort().map(([code, cur]) => ({
      type: 'Currency',
      properties: { code, name: cur.name, ...(cur.symbol ? { symbol: cur.symbol } : {}) },
    })),
    ...[...languages].sort().map(([code, name]) => ({ type: 'Language', properties: { code, name } })),
    ...countries.map((c) => ({
      type: 'Country',
      properties: {
        cca3: c.cca3,
        cca2: c.cca2,
        ...(c.ccn3 ? { ccn3: c.ccn3 } : {}),
        name: c.name.common,
        officialName: c.name.official,
        capital: c.capital ?? [],
        region: c.region,
        ...(c.subregion ? { subregion: c.subregion } : {}),
        landlocked: c.landlocked,
        ...(c.independent === null ? {} : { independent: c.independent }),
        unMember: c.unMember,
        area: c.area,
        ...(c.latlng.length === 2 ? { location: { lat: c.latlng[0], lon: c.latlng[1] } } : {}),
        flag: c.flag,
        tld: c.tld ?? [],
      },
    })),
  ];
  const links: LinkInput[] = [
    ...[...subregions]
      .sort()
      .map(([name, region]) => ({ type: 'Subregion', id: name, linkType: 'subregionOf', targetId: region })),
    ...countries.flatMap((c) => [
      ...(c.subregion
        ? [{ type: 'Country', id: c.cca3, linkType: 'inSubregion', targetId: c.subregion }]
        : []),
      ...c.borders.map((b) => ({ type: 'Country', id: c.cca3, linkType: 'borders', targetId: b })),
      ...Object.keys(c.currencies ?? {}).map((code) => ({
        type: 'Country',
        id: c.cca3,
        linkType: 'usesCurrency',
        targetId: code,
      })),
      ...Object.keys(c.languages ?? {}).map((code) => ({
        type: 'Country',
        id: c.cca3,
        linkType: 'speaks',
        targetId: code,
      })),
    ]),
  ];
  return { objects, links };
}

/** The demo's questions answered straight from the source data, to check Strata's answers. */
export function expectedAnswers(countries: WorldCountry[] = loadWorldCountries()) {
  const byCode = new Map(countries.map((c) => [c.cca3, c]));
  const name = (code: string) => byCode.get(code)!.name.common;
  const within = (start: string, depth: number) => {
    const seen = new Set([start]);
    let frontier = [start];
    for (let d = 0; d < depth; d++) {
      frontier = frontier.flatMap((c) => byCode.get(c)!.borders).filter((b) => !seen.has(b) && seen.add(b));
    }
    seen.delete(start);
    return [...seen].map(name).sort();
  };
  return {
    franceNeighbours: byCode.get('FRA')!.borders.map(name).sort(),
    withinTwoOfGermany: within('DEU', 2),
    landlockedAfrica: countries
      .filter((c) => c.region === 'Africa' && c.landlocked)
      .map((c) => c.name.common)
      .sort(),
    euroCountries: countries.filter((c) => c.currencies?.EUR).length,
  };
}
