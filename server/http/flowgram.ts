import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HubContext } from '../context.js';
import { fromZodError, HubError } from '../errors.js';
import {
  FlowReport,
  FlowRunBody,
  FlowServerInfo,
  FlowTaskCancelInput,
  FlowTaskCancelOutput,
  FlowTaskQuery,
  FlowTaskRunInput,
  FlowTaskRunOutput,
  FlowValidateOutput,
} from '../protocol/flowgram.js';
import { HttpError, TaskIdParams } from '../protocol/http.js';
import { HUB_VERSION } from '../protocol/index.js';
import { isTerminal, Task } from '../protocol/tasks.js';
import { buildReport } from '../workflows/flowgram/report.js';
import { requireRole } from './auth-hook.js';

/** `POST /api/v1/tasks` with `kind: "flowgram"`: the body is validated here, fields named as sent. */
export function startFlowgram(ctx: HubContext, body: Record<string, unknown>): Task {
  const { kind: _kind, ...rest } = body;
  const parsed = FlowRunBody.safeParse(rest);
  if (!parsed.success) throw fromZodError(parsed.error);
  return ctx.flowgram.start(parsed.data.schema, parsed.data.inputs, parsed.data.traceId);
}

async function corsPreflight(_req: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply
    .header('access-control-allow-methods', 'GET, POST, PUT, OPTIONS')
    .header('access-control-allow-headers', 'authorization, content-type')
    .header('access-control-max-age', '600')
    .code(204)
    .send();
}

const errors = { 400: HttpError, 401: HttpError, 403: HttpError, 404: HttpError, 429: HttpError };
const tags = ['flowgram'];

/**
 * The FlowGram runtime's API (same paths and shapes: `/api/task/*`, `/api/info`, Swagger UI at `/api/docs`)
 * and the native `/api/v1/flowgram/*` routes. Auth as everywhere: a bearer token whose role may do the thing.
 */
export async function flowgramRoutes(app: FastifyInstance, ctx: HubContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { tasks, flowgram } = ctx;

  // As told: a report or result that says the run ended holds every node snapshot before the end.
  const flowTask = async (id: string) => {
    const task = await tasks.told(id);
    if (task?.kind !== 'flowgram')
      throw new HubError('not_found', `taskID: no FlowGram task ${id}`, { field: 'taskID' });
    return task;
  };
  const report = async (id: string) => {
    const task = await flowTask(id);
    return buildReport(task, await tasks.replay(id, 0));
  };
  const validate = (schema: unknown, inputs: unknown) => {
    try {
      return flowgram.validate(schema, inputs);
    } catch (err) {
      // A schema that is not even JSON is invalid, not a bad request: FlowGram's editor shows the reason.
      if (err instanceof HubError && err.field === 'schema') return { valid: false, errors: [err.message] };
      throw err;
    }
  };

  r.post(
    '/api/task/run',
    {
      onRequest: requireRole(ctx, 'submit'),
      schema: {
        tags,
        summary: 'Run a FlowGram workflow schema (TaskRun)',
        body: FlowTaskRunInput,
        response: { 200: FlowTaskRunOutput, ...errors },
      },
    },
    async (req) => ({ taskID: flowgram.start(req.body.schema, req.body.inputs).id }),
  );

  r.get(
    '/api/task/report',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags,
        summary:
          'The report of a FlowGram task: status, per-node status and snapshots, messages (TaskReport)',
        querystring: FlowTaskQuery,
        response: { 200: FlowReport, ...errors },
      },
    },
    async (req) => report(req.query.taskID),
  );

  r.get(
    '/api/task/result',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags,
        summary: "A FlowGram task's outputs once it has ended; null while it runs (TaskResult)",
        querystring: FlowTaskQuery,
        response: { 200: FlowReport.shape.outputs.nullable(), ...errors },
      },
    },
    async (req) => {
      const task = await flowTask(req.query.taskID);
      if (!isTerminal(task.status)) return null;
      return (task.result as Record<string, unknown> | null) ?? {};
    },
  );

  r.put(
    '/api/task/cancel',
    {
      onRequest: requireRole(ctx, 'cancel'),
      schema: {
        tags,
        summary: 'Cancel a FlowGram task: in-flight llm, http and code nodes are aborted (TaskCancel)',
        description:
          'success is true for a known FlowGram task (as in FlowGram, also when it had already ended).',
        body: FlowTaskCancelInput,
        response: { 200: FlowTaskCancelOutput, ...errors },
      },
    },
    async (req) => {
      const task = await tasks.get(req.body.taskID);
      if (task?.kind !== 'flowgram') return { success: false };
      if (!isTerminal(task.status)) flowgram.cancel(task.id);
      return { success: true };
    },
  );

  r.post(
    '/api/task/validate',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags,
        summary: 'Validate a schema and its inputs without running them (TaskValidate)',
        body: FlowTaskRunInput,
        response: { 200: FlowValidateOutput, ...errors },
      },
    },
    async (req) => validate(req.body.schema, req.body.inputs),
  );

  r.get(
    '/api/info',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: { tags, summary: 'Server info (ServerInfo)', response: { 200: FlowServerInfo, ...errors } },
    },
    async () => ({
      name: 'Switchboard',
      runtime: 'nodejs',
      version: HUB_VERSION,
      time: new Date().toISOString(),
    }),
  );

  r.post(
    '/api/v1/flowgram/runs',
    {
      onRequest: requireRole(ctx, 'submit'),
      schema: {
        tags,
        summary:
          'Start a FlowGram task; follow it at /api/v1/tasks/{id}/events, cancel with /api/v1/tasks/{id}/cancel',
        body: FlowRunBody,
        response: { 201: Task, ...errors },
      },
    },
    async (req, reply) =>
      reply.code(201).send(flowgram.start(req.body.schema, req.body.inputs, req.body.traceId)),
  );

  r.post(
    '/api/v1/flowgram/validate',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags,
        summary: 'Validate a FlowGram schema and inputs',
        body: FlowTaskRunInput,
        response: { 200: FlowValidateOutput, ...errors },
      },
    },
    async (req) => validate(req.body.schema, req.body.inputs),
  );

  r.get(
    '/api/v1/flowgram/runs/:id/report',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags,
        summary: 'The FlowGram report of a task',
        params: TaskIdParams,
        response: { 200: FlowReport, ...errors },
      },
    },
    async (req) => report(req.params.id),
  );

  // FlowGram's editor calls its runtime from the editor's own origin (FlowGram's server allows any): the same
  // here for FlowGram's paths, preflight included. The token is still required on every real request.
  const flowPath = (url: string) => url.startsWith('/api/task/') || url.split('?')[0] === '/api/info';
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (!origin || !flowPath(req.url)) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('vary', 'Origin');
  });
  app.options('/api/task/*', { schema: { hide: true } }, corsPreflight);
  app.options('/api/info', { schema: { hide: true } }, corsPreflight);

  // FlowGram serves its docs at /api/docs (and the JSON at /api/openapi.json); the hub's /docs stays. One
  // OpenAPI document for all of them.
  await app.register(async (child) => {
    await child.register(swaggerUi, { routePrefix: '/api/docs' });
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
