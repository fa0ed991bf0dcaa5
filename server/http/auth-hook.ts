import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Action, bearer, type Principal } from '../auth/index.js';
import type { HubContext } from '../context.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** A preHandler that admits a request only with a valid token whose role may do `action`. */
export function requireRole(ctx: HubContext, action: Action, opts: { charge?: boolean } = {}) {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const token = bearer(req.headers.authorization);
    const principal = ctx.auth.authenticate(token, req.ip);
    ctx.auth.require(principal, action);
    if (opts.charge !== false) ctx.auth.charge(principal);
    req.principal = principal;
  };
}
