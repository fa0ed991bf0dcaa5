import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../context.js';
import { HOST_SECRET_HEADER } from '../dispatch/host-secrets.js';
import { HubError } from '../errors.js';
import {
  HttpError,
  NextCode,
  NextCodeQuery,
  StatusUpdateBody,
  StatusUpdateResult,
} from '../protocol/http.js';
import { requireRole } from './auth-hook.js';
import { onClientGone } from './client-gone.js';

const errors = {
  400: HttpError,
  401: HttpError,
  403: HttpError,
  404: HttpError,
  409: HttpError,
  429: HttpError,
};

/** Documents the host secret header (OpenAPI); other headers pass through. */
const SecretHeaders = z.object({
  [HOST_SECRET_HEADER]: z
    .string()
    .max(256)
    .optional()
    .describe('The host secret issued on the first poll of this id (answered in the same header)'),
});

function secretOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const v = headers[HOST_SECRET_HEADER];
  return (Array.isArray(v) ? v[0] : v) || undefined;
}

/** The old exec platform's polling flow for hosts that cannot hold a socket open. */
export function pollingRoutes(app: FastifyInstance, ctx: HubContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { polling, dispatcher, tasks } = ctx;

  r.get(
    '/next_code',
    {
      onRequest: requireRole(ctx, 'register'),
      schema: {
        tags: ['polling hosts'],
        summary: 'Long-poll for the next job of this host (204 when none arrives within `wait` seconds)',
        querystring: NextCodeQuery,
        headers: SecretHeaders,
        response: { 200: NextCode, 204: z.null().describe('no job within `wait` seconds'), ...errors },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const { host, issuedSecret } = polling.touch({
        id: q.id,
        name: q.name,
        labels: q.labels,
        concurrency: q.concurrency,
        capabilities: { hostApp: q.host_app ?? 'python', hostVersion: q.host_version ?? 'unknown' },
        running: [],
        secret: secretOf(req.headers),
      });
      if (issuedSecret) reply.header(HOST_SECRET_HEADER, issuedSecret);
      const controller = new AbortController();
      onClientGone(reply, () => controller.abort());
      const job = await polling.next(host, q.wait * 1000, controller.signal);
      if (!job) return reply.code(204).send(null);
      return {
        task_id: job.taskId,
        code: job.code,
        timeout: job.timeoutMs / 1000,
        attempt: job.attempt,
        trace_id: job.traceId,
        extension_id: host.record.info.id,
      };
    },
  );

  r.post(
    '/status_update',
    {
      // Reports answer the hub's own jobs: not counted against the rate limit, like socket job reports.
      onRequest: requireRole(ctx, 'run_jobs', { charge: false }),
      schema: {
        tags: ['polling hosts'],
        summary: 'Report output and the outcome of a job taken with /next_code',
        body: StatusUpdateBody,
        headers: SecretHeaders,
        response: { 200: StatusUpdateResult, ...errors },
      },
    },
    async (req) => {
      const b = req.body;
      const task = await tasks.require(b.task_id);
      const hostId = b.extension_id ?? task.extensionId;
      const host = hostId ? polling.byId(hostId) : undefined;
      if (!host) {
        throw new HubError('conflict', `task_id: task ${b.task_id} is not out on a polling host`, {
          field: 'task_id',
        });
      }
      const record = host.record;
      ctx.hostSecrets.verify(record.info.id, secretOf(req.headers));
      if (b.status === 'running') dispatcher.jobStarted(record, b.task_id);
      if (b.stdout) dispatcher.jobOutput(record, b.task_id, 'stdout', b.stdout);
      if (b.stderr) dispatcher.jobOutput(record, b.task_id, 'stderr', b.stderr);
      if (b.status && b.status !== 'running') {
        dispatcher.jobResult(record, {
          taskId: b.task_id,
          status: b.status,
          result: b.result,
          ...(b.error || b.traceback
            ? {
                error: {
                  message: b.error ?? 'the code failed',
                  ...(b.error_type ? { type: b.error_type } : {}),
                  ...(b.traceback ? { traceback: b.traceback } : {}),
                },
              }
            : {}),
        });
      }
      return { ok: true as const, cancel: polling.takeCancel(host, b.task_id) };
    },
  );
}
