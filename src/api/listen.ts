/** Starts a whole Strata (engines, relay, workers, HTTP API) in this process. */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { type Logger, openStrata, type Strata } from '../app/runtime.js';
import type { StrataConfig } from '../config.js';
import { buildServer } from './server.js';

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
        await app.close();
        await strata.close();
      },
    };
  } catch (e) {
    await strata.close();
    throw e;
  }
}
