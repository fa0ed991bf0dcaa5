import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../context.js';
import { Id } from '../protocol/common.js';
import { HostSecretForgotten, HostSecretIssued } from '../protocol/extension.js';
import { HttpError } from '../protocol/http.js';
import { requireRole } from './auth-hook.js';

const errors = { 400: HttpError, 401: HttpError, 403: HttpError, 429: HttpError };
const Params = z.object({ id: Id }).strict();

/** Admin control of host identities: set a host up ahead of time (or rotate its secret), or forget it. */
export function hostRoutes(app: FastifyInstance, ctx: HubContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/api/v1/hosts/:id/secret',
    {
      onRequest: requireRole(ctx, 'admin'),
      schema: {
        tags: ['hosts'],
        summary: 'Issue (or rotate) the host secret of an extension id; shown once',
        description:
          'The host presents it as `secret` in `register` (or the X-Switchboard-Host-Secret header when ' +
          'polling). An earlier secret of the id stops working; a live host keeps its connection.',
        params: Params,
        response: { 201: HostSecretIssued, ...errors },
      },
    },
    async (req, reply) => {
      const secret = ctx.hostSecrets.issue(req.params.id);
      ctx.logger.info({ extensionId: req.params.id }, 'host secret issued by admin');
      return reply.code(201).send({ id: req.params.id, secret });
    },
  );

  r.delete(
    '/api/v1/hosts/:id/secret',
    {
      onRequest: requireRole(ctx, 'admin'),
      schema: {
        tags: ['hosts'],
        summary: 'Forget the host secret of an extension id (the next host to register it gets a new one)',
        params: Params,
        response: { 200: HostSecretForgotten, ...errors },
      },
    },
    async (req) => {
      const forgotten = ctx.hostSecrets.forget(req.params.id);
      ctx.logger.info({ extensionId: req.params.id, forgotten }, 'host secret forgotten by admin');
      return { id: req.params.id, forgotten };
    },
  );
}
