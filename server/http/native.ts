import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../context.js';
import { ExtensionInfo } from '../protocol/extension.js';
import { HttpError, TaskIdParams } from '../protocol/http.js';
import { Task, TaskListQuery, TaskPage } from '../protocol/tasks.js';
import { requireRole } from './auth-hook.js';
import { startFlowgram } from './flowgram.js';
import { resumeSeq, streamTaskEvents } from './sse.js';

const errors = { 400: HttpError, 401: HttpError, 403: HttpError, 404: HttpError, 429: HttpError };

/** The native API: everything a socket client can do, plus SSE event streams. */
export function nativeRoutes(app: FastifyInstance, ctx: HubContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { tasks, codeTasks, dispatcher, registry } = ctx;

  r.post(
    '/api/v1/tasks',
    {
      onRequest: requireRole(ctx, 'submit'),
      schema: {
        tags: ['tasks'],
        summary: 'Submit Python code to run on an extension',
        // Validated by CodeTasks (same path for sockets); documented here for OpenAPI.
        body: z.record(z.string(), z.unknown()).describe('SubmitCode: {code, target?, timeoutMs?, retries?}'),
        response: { 201: Task, 413: HttpError, 422: HttpError, ...errors },
      },
    },
    async (req, reply) => {
      // Create by kind: `{kind: "flowgram", schema, inputs?}` starts a FlowGram task (as /api/v1/flowgram/runs).
      if (req.body['kind'] === 'flowgram') return reply.code(201).send(startFlowgram(ctx, req.body));
      return reply.code(201).send(codeTasks.submit(req.body));
    },
  );

  r.get(
    '/api/v1/tasks',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags: ['tasks'],
        summary: 'List tasks, newest first',
        querystring: TaskListQuery,
        response: { 200: TaskPage, ...errors },
      },
    },
    async (req) => tasks.list(req.query),
  );

  r.get(
    '/api/v1/tasks/:id',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags: ['tasks'],
        summary: 'One task',
        params: TaskIdParams,
        response: { 200: Task, ...errors },
      },
    },
    async (req) => tasks.require(req.params.id),
  );

  r.post(
    '/api/v1/tasks/:id/cancel',
    {
      onRequest: requireRole(ctx, 'cancel'),
      schema: {
        tags: ['tasks'],
        summary: 'Cancel a task',
        params: TaskIdParams,
        response: { 200: Task, 409: HttpError, ...errors },
      },
    },
    async (req) => dispatcher.cancel(req.params.id),
  );

  r.get(
    '/api/v1/tasks/:id/events',
    {
      onRequest: requireRole(ctx, 'subscribe'),
      schema: {
        tags: ['tasks'],
        summary: 'Task events as Server-Sent Events (replay, then live); resume with Last-Event-ID',
        params: TaskIdParams,
        querystring: z.object({ afterSeq: z.coerce.number().int().min(0).optional() }).strict(),
      },
    },
    async (req, reply) => {
      tasks.require(req.params.id);
      streamTaskEvents(tasks, req.params.id, resumeSeq(req, req.query.afterSeq), reply, undefined, {
        keepaliveMs: ctx.config.sseKeepaliveS * 1000,
      });
    },
  );

  r.get(
    '/api/v1/extensions',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags: ['extensions'],
        summary: 'Extensions online now',
        response: { 200: z.array(ExtensionInfo), ...errors },
      },
    },
    async () => registry.list(),
  );
}
