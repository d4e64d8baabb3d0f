/**
 * Bearer-token authentication with roles reader < writer < admin. Tokens come only from config
 * (STRATA_API_TOKENS); with none configured the API is open and every actor is `anonymous`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StrataError } from '../core/errors.js';
import { sendProblem } from './problem.js';

export type Role = 'reader' | 'writer' | 'admin';
const RANK: Record<Role, number> = { reader: 0, writer: 1, admin: 2 };

export interface ApiToken {
  token: string;
  actor: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyRequest {
    actor: string;
    role: Role;
  }
  interface FastifyContextConfig {
    /** The least role a route needs; none means public (health, docs). */
    role?: Role;
  }
}

export function authHook(tokens: ApiToken[] | undefined) {
  const byToken = new Map((tokens ?? []).map((t) => [t.token, t]));
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const needed = request.routeOptions.config.role;
    if (!tokens || tokens.length === 0) {
      request.actor = 'anonymous';
      request.role = 'admin';
      return;
    }
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const token = match ? byToken.get(match[1]!.trim()) : undefined;
    if (!needed) {
      // A public route: a valid token still says who asks (readiness details are for admins).
      if (token) {
        request.actor = token.actor;
        request.role = token.role;
      }
      return;
    }
    if (!token) {
      reply.header('WWW-Authenticate', 'Bearer');
      return sendProblem(
        reply,
        new StrataError('STRATA_ERR_AUTH_REQUIRED', 'a valid bearer token is required'),
        request,
      );
    }
    if (RANK[token.role] < RANK[needed]) {
      return sendProblem(
        reply,
        new StrataError(
          'STRATA_ERR_FORBIDDEN',
          `this route needs the ${needed} role; the token has ${token.role}`,
        ),
        request,
      );
    }
    request.actor = token.actor;
    request.role = token.role;
  };
}
