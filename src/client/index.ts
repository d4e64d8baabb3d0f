/**
 * A typed TypeScript client for the Strata HTTP API. Errors arrive as StrataApiError carrying the
 * problem+json body.
 */
import type { CommandResult } from '../app/command-handler.js';
import type { ObjectView, SearchRequest } from '../app/queries.js';
import type { EventEnvelope } from '../core/event.js';
import type { Ontology } from '../core/ontology.js';
import type { Direction, TraverseResult } from '../ports/graph-store.js';
import type { SearchResult } from '../ports/search-index.js';

export type {
  CommandResult,
  EventEnvelope,
  ObjectView,
  Ontology,
  SearchRequest,
  SearchResult,
  TraverseResult,
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  violations?: { path: string; message: string }[];
  [extra: string]: unknown;
}

export class StrataApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${status} ${problem.code}: ${problem.detail}`);
    this.name = 'StrataApiError';
  }
}

export interface WriteOptions {
  /** Expected current version (If-Match); a mismatch is a 409. */
  ifMatch?: number;
  /** Retries with the same key never yield a second event. */
  idempotencyKey?: string;
}

export interface ClientOptions {
  token?: string;
  fetch?: typeof fetch;
}

const seg = encodeURIComponent;

export class StrataClient {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(
    baseUrl: string,
    private readonly options: ClientOptions = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? fetch;
  }

  /** fetch, with a network failure named by URL and cause instead of a bare "fetch failed". */
  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetch(url, init);
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`cannot reach ${this.base}: ${cause?.code ?? cause?.message ?? (e as Error).message}`, {
        cause: e,
      });
    }
  }

  private async request<T>(method: string, path: string, body?: unknown, write?: WriteOptions): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (write?.ifMatch !== undefined) headers['if-match'] = `"${write.ifMatch}"`;
    if (write?.idempotencyKey) headers['idempotency-key'] = write.idempotencyKey;
    const res = await this.send(`${this.base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const problem = (parsed as Problem | undefined) ?? {
        type: 'about:blank',
        title: res.statusText,
        status: res.status,
        detail: text,
        code: 'UNKNOWN',
      };
      throw new StrataApiError(res.status, problem);
    }
    return parsed as T;
  }

  getOntology(): Promise<Ontology & { version: number }> {
    return this.request('GET', '/v1/ontology');
  }

  /** A `version` (as getOntology returns it) is the expected current version: 409 if it moved on. */
  putOntology(ontology: Ontology & { version?: number }, write?: WriteOptions): Promise<CommandResult> {
    return this.request('PUT', '/v1/ontology', ontology, write);
  }

  createObject(
    type: string,
    properties: Record<string, unknown>,
    write?: WriteOptions,
  ): Promise<CommandResult> {
    return this.request('POST', `/v1/objects/${seg(type)}`, { properties }, write);
  }

  getObject(type: string, id: string, asOf?: string): Promise<ObjectView> {
    const q = asOf ? `?asOf=${seg(asOf)}` : '';
    return this.request('GET', `/v1/objects/${seg(type)}/${seg(id)}${q}`);
  }

  updateObject(
    type: string,
    id: string,
    properties: Record<string, unknown>,
    write?: WriteOptions,
  ): Promise<CommandResult> {
    return this.request('PATCH', `/v1/objects/${seg(type)}/${seg(id)}`, { properties }, write);
  }

  deleteObject(type: string, id: string, write?: WriteOptions): Promise<CommandResult> {
    return this.request('DELETE', `/v1/objects/${seg(type)}/${seg(id)}`, undefined, write);
  }

  history(
    type: string,
    id: string,
    opts: { fromVersion?: number; limit?: number } = {},
  ): Promise<{ events: EventEnvelope[] }> {
    const q = new URLSearchParams();
    if (opts.fromVersion) q.set('fromVersion', String(opts.fromVersion));
    if (opts.limit) q.set('limit', String(opts.limit));
    const qs = q.size ? `?${q}` : '';
    return this.request('GET', `/v1/objects/${seg(type)}/${seg(id)}/history${qs}`);
  }

  addLink(
    type: string,
    id: string,
    linkType: string,
    targetId: string,
    write?: WriteOptions,
  ): Promise<CommandResult> {
    return this.request(
      'POST',
      `/v1/objects/${seg(type)}/${seg(id)}/links/${seg(linkType)}`,
      { targetId },
      write,
    );
  }

  removeLink(
    type: string,
    id: string,
    linkType: string,
    targetId: string,
    write?: WriteOptions,
  ): Promise<CommandResult> {
    return this.request(
      'DELETE',
      `/v1/objects/${seg(type)}/${seg(id)}/links/${seg(linkType)}/${seg(targetId)}`,
      undefined,
      write,
    );
  }

  traverse(q: {
    type: string;
    id: string;
    linkTypes?: string[];
    direction?: Direction;
    depth?: number;
    asOf?: string;
    limit?: number;
  }): Promise<TraverseResult & { start: { type: string; id: string; title: string } }> {
    const p = new URLSearchParams({ type: q.type, id: q.id });
    if (q.linkTypes?.length) p.set('linkTypes', q.linkTypes.join(','));
    if (q.direction) p.set('direction', q.direction);
    if (q.depth) p.set('depth', String(q.depth));
    if (q.asOf) p.set('asOf', q.asOf);
    if (q.limit) p.set('limit', String(q.limit));
    return this.request('GET', `/v1/graph/traverse?${p}`);
  }

  search(request: SearchRequest): Promise<SearchResult> {
    return this.request('POST', '/v1/search', request);
  }

  /** Streams the events that occurred in [from, to] (NDJSON), in time order. */
  async *events(from: string, to?: string): AsyncGenerator<EventEnvelope> {
    const p = new URLSearchParams({ from });
    if (to) p.set('to', to);
    const headers: Record<string, string> = this.options.token
      ? { authorization: `Bearer ${this.options.token}` }
      : {};
    const res = await this.send(`${this.base}/v1/events?${p}`, { headers });
    if (!res.ok || !res.body) throw new StrataApiError(res.status, JSON.parse(await res.text()) as Problem);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim()) yield JSON.parse(line) as EventEnvelope;
        nl = buffer.indexOf('\n');
      }
    }
    if (buffer.trim()) yield JSON.parse(buffer) as EventEnvelope;
  }

  admin<T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    return this.request(method, `/v1/admin/${path}`, body);
  }

  health(): Promise<{ status: string }> {
    return this.request('GET', '/healthz');
  }
}
