import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HubContext } from '../context.js';
import type { HubObservability } from '../metrics/index.js';
import { HttpError } from '../protocol/http.js';
import { StatsOverview, StatsOverviewQuery } from '../protocol/stats.js';
import { requireRole } from './auth-hook.js';

/** `/metrics` (Prometheus, from prom-client) and the overview's samples of the same numbers. */
export function metricsRoutes(app: FastifyInstance, ctx: HubContext, obs: HubObservability): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  // Viewer token, like every read.
  r.get('/metrics', { onRequest: requireRole(ctx, 'read'), schema: { hide: true } }, async (_req, reply) => {
    const { contentType, body } = await obs.metrics.exposition();
    reply.header('content-type', contentType);
    return body;
  });

  r.get(
    '/api/v1/stats/overview',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags: ['stats'],
        summary:
          'The last 15 minutes of samples: queue depth, tasks/s started and finished, failure rate, p50/p99 ' +
          'duration, per-extension load and state (every SWITCHBOARD_STATS_SAMPLE_MS)',
        querystring: StatsOverviewQuery,
        response: { 200: StatsOverview, 400: HttpError, 401: HttpError, 403: HttpError, 429: HttpError },
      },
    },
    async (req) => obs.sampler.overview(req.query.since),
  );
}
