import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../context.js';
import { HubError } from '../errors.js';
import { ExtensionInfo } from '../protocol/extension.js';
import { HttpError, TaskIdParams } from '../protocol/http.js';
import { ExtensionLogs } from '../protocol/monitor.js';
import { isPluginTaskBody, PluginStatusFields, TaskCreated } from '../protocol/plugins.js';
import { Task, TaskListQuery, TaskPage } from '../protocol/tasks.js';
import { requireRole } from './auth-hook.js';
import { startFlowgram } from './flowgram.js';
import { startSeedTask, withSeedFields } from './plugins-seed.js';
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
        summary: 'Submit Python code to run on an extension, or create a plugin-service task',
        // Validated by CodeTasks (same path for sockets); documented here for OpenAPI.
        body: z
          .record(z.string(), z.unknown())
          .describe(
            'SubmitCode {code, target?, timeoutMs?, retries?} -> 201 Task; or a plugin-service body ' +
              '{tool_name, plugin_name?, parameters, resources?, timeout?} -> 200 {task_id, status: created, message}',
          ),
        response: { 200: TaskCreated, 201: Task, 413: HttpError, 422: HttpError, 503: HttpError, ...errors },
      },
    },
    async (req, reply) => {
      // Create by kind: `{kind: "flowgram", schema, inputs?}` starts a FlowGram task (as /api/v1/flowgram/runs).
      if (req.body['kind'] === 'flowgram') return reply.code(201).send(startFlowgram(ctx, req.body));
      // One path, two APIs: a plugin-service body names a tool; a native one carries code.
      if (isPluginTaskBody(req.body)) {
        const task = await startSeedTask(ctx, req.body);
        return reply.code(200).send({
          task_id: task.id,
          status: 'created' as const,
          message: `Task created and started. Poll GET /api/v1/tasks/${task.id} or follow /api/v1/tasks/${task.id}/events.`,
        });
      }
      return reply.code(201).send(await codeTasks.submit(req.body));
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
        summary:
          'One task (plugin tasks also carry the plugin service fields task_id, tool_name, percent, ...)',
        params: TaskIdParams,
        response: { 200: Task.extend(PluginStatusFields.shape), ...errors },
      },
    },
    async (req) => withSeedFields(ctx, await tasks.require(req.params.id)),
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
      await tasks.require(req.params.id);
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

  r.get(
    '/api/v1/extensions/:id/logs',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags: ['extensions'],
        summary:
          "An extension's host log (Kit's log, when its bridge forwards it): the kept lines after afterSeq",
        params: z.object({ id: z.string().min(1).max(128) }),
        querystring: z.object({ afterSeq: z.coerce.number().int().min(0).default(0) }),
        response: { 200: ExtensionLogs, ...errors },
      },
    },
    async (req) => {
      const kept = registry.logs.read(req.params.id, req.query.afterSeq);
      if (!registry.get(req.params.id) && kept.lines.length === 0 && kept.dropped === 0)
        throw new HubError('not_found', `no extension with id ${req.params.id}`, { field: 'id' });
      return { extensionId: req.params.id, ...kept };
    },
  );
}
