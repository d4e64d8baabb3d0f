/** Starts a whole Strata (engines, relay, workers, HTTP API) in this process. */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { type Logger, openStrata, type Strata } from '../app/runtime.js';
import type { StrataConfig } from '../config.js';
import { buildServer } from './server.js';

/** How long a stop waits for requests in flight before closing their connections. */
const STOP_GRACE_MS = 10_000;

export interface RunningStrata {
  strata: Strata;
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

export async function startStrata(
  config: StrataConfig,
  options: { logger?: FastifyServerOptions['logger']; log?: Logger; background?: boolean } = {},
): Promise<RunningStrata> {
  const strata = await openStrata(config, { log: options.log });
  try {
    if (options.background !== false) await strata.startBackground();
    const app = await buildServer(strata, { logger: options.logger });
    await app.listen({ host: config.http.host, port: config.http.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
    let stopped = false;
    return {
      strata,
      app,
      url: `http://${host}:${port}`,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        // Requests in flight are answered; a keep-alive connection that finishes its request
        // after the close began would stay open (72 s) and hold the close: shut those as they go
        // idle, and whatever still hangs after the grace period.
        const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
        const force = setTimeout(() => app.server.closeAllConnections(), STOP_GRACE_MS);
        try {
          await app.close();
        } finally {
          clearInterval(sweep);
          clearTimeout(force);
        }
        await strata.close();
      },
    };
  } catch (e) {
    await strata.close();
    throw e;
  }
}
