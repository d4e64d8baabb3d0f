/**
 * HTTP request metrics for /metrics: a counter per route pattern, method and status class, and a
 * latency histogram per route pattern (Prometheus text). Route patterns, never raw URLs, so the
 * number of series stays bounded whatever IDs clients send.
 */
import type { FastifyInstance } from 'fastify';

/** Upper bounds of the latency buckets, in seconds. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Latency {
  counts: number[];
  sum: number;
  count: number;
}

export class HttpMetrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Latency>();

  /** Counts every answered request of `app`. */
  attach(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      this.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    });
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `method="${method}",route="${escapeLabel(route)}",status="${Math.floor(status / 100)}xx"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const at = `route="${escapeLabel(route)}"`;
    const l = this.latency.get(at) ?? { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
    BUCKETS.forEach((le, i) => {
      if (seconds <= le) l.counts[i]!++;
    });
    l.sum += seconds;
    l.count++;
    this.latency.set(at, l);
  }

  /** The Prometheus text lines. */
  lines(): string[] {
    const out = ['# TYPE strata_http_requests_total counter'];
    for (const [labels, n] of this.requests) out.push(`strata_http_requests_total{${labels}} ${n}`);
    out.push('# TYPE strata_http_request_duration_seconds histogram');
    for (const [labels, l] of this.latency) {
      for (const [i, le] of BUCKETS.entries()) {
        out.push(`strata_http_request_duration_seconds_bucket{${labels},le="${le}"} ${l.counts[i]}`);
      }
      out.push(`strata_http_request_duration_seconds_bucket{${labels},le="+Inf"} ${l.count}`);
      out.push(`strata_http_request_duration_seconds_sum{${labels}} ${l.sum}`);
      out.push(`strata_http_request_duration_seconds_count{${labels}} ${l.count}`);
    }
    return out;
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
