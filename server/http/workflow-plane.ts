import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../context.js';
import { HttpError } from '../protocol/http.js';
import { HUB_VERSION } from '../protocol/index.js';
import { isTerminal, Task } from '../protocol/tasks.js';
import { RunWorkflowBody, WorkflowInfo, WorkflowNameParams, WorkflowRequest } from '../protocol/workflows.js';
import { planeEvent } from '../workflows/plane-events.js';
import { requireRole } from './auth-hook.js';
import { onClientGone } from './client-gone.js';
import { resumeSeq, streamTaskEvents } from './sse.js';

const errors = { 400: HttpError, 401: HttpError, 403: HttpError, 404: HttpError, 429: HttpError };

/**
 * Workflows over HTTP: the execution plane's `POST /v1/run_workflow` (SSE) with its resume and health
 * routes, and the native `/api/v1/workflows` list and start.
 */
export function workflowRoutes(app: FastifyInstance, ctx: HubContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { tasks, workflows, config } = ctx;
  const sse = { keepaliveMs: config.sseKeepaliveS * 1000 };

  r.post(
    '/v1/run_workflow',
    {
      onRequest: requireRole(ctx, 'submit'),
      schema: {
        tags: ['workflows'],
        summary: 'Run a workflow and stream it as SSE (execution plane)',
        description:
          'Events: tool_thinking, tool_start, tool_result, message_chunk, error, done {usage, finish_reason}. ' +
          'Event ids are task seqs; the task id is in the x-task-id header and every event. Resume with ' +
          'GET /v1/run_workflow/{task_id}/events and Last-Event-ID. A client that hangs up before the end ' +
          'cancels the run (its model call and tools are aborted) unless on_disconnect is `continue` ' +
          '(default: SWITCHBOARD_WORKFLOW_ON_DISCONNECT); a continued run is resumed with the route above.',
        body: RunWorkflowBody,
      },
    },
    async (req, reply) => {
      const { workflow, on_disconnect, ...request } = req.body;
      const task = workflows.start(workflow, request);
      reply.raw.setHeader('x-task-id', task.id);
      if ((on_disconnect ?? config.workflowOnDisconnect) === 'cancel') {
        onClientGone(reply, () => {
          const t = tasks.live(task.id);
          if (t && !isTerminal(t.status)) workflows.cancel(task.id, 'the client hung up the stream');
        });
      }
      streamTaskEvents(tasks, task.id, 0, reply, planeEvent, sse);
    },
  );

  r.get(
    '/v1/run_workflow/:task_id/events',
    {
      onRequest: requireRole(ctx, 'subscribe'),
      schema: {
        tags: ['workflows'],
        summary: 'Resume a run_workflow stream after Last-Event-ID (or ?afterSeq)',
        params: z.object({ task_id: z.string().min(1).max(128) }).strict(),
        querystring: z.object({ afterSeq: z.coerce.number().int().min(0).optional() }).strict(),
      },
    },
    async (req, reply) => {
      await tasks.require(req.params.task_id);
      reply.raw.setHeader('x-task-id', req.params.task_id);
      streamTaskEvents(tasks, req.params.task_id, resumeSeq(req, req.query.afterSeq), reply, planeEvent, sse);
    },
  );

  r.get(
    '/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Execution plane liveness (no auth)',
        response: {
          200: z.object({ status: z.literal('ok'), version: z.string(), workflows: z.array(z.string()) }),
        },
      },
    },
    async () => ({ status: 'ok' as const, version: HUB_VERSION, workflows: workflows.registry.names() }),
  );

  r.get(
    '/api/v1/workflows',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags: ['workflows'],
        summary: 'Registered workflows with the JSON Schema of their input',
        response: { 200: z.array(WorkflowInfo), ...errors },
      },
    },
    async () => workflows.registry.list(),
  );

  r.post(
    '/api/v1/workflows/:name/runs',
    {
      onRequest: requireRole(ctx, 'submit'),
      schema: {
        tags: ['workflows'],
        summary: 'Start a workflow run; follow it at /api/v1/tasks/{id}/events or with task:subscribe',
        params: WorkflowNameParams,
        body: WorkflowRequest,
        response: { 201: Task, ...errors },
      },
    },
    async (req, reply) => reply.code(201).send(workflows.start(req.params.name, req.body)),
  );
}
