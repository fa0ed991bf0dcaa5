import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HubContext } from '../context.js';
import { RunGraph } from '../protocol/graph.js';
import { HttpError, TaskIdParams } from '../protocol/http.js';
import { WorkflowNameParams } from '../protocol/workflows.js';
import { taskGraph } from '../workflows/task-graph.js';
import { requireRole } from './auth-hook.js';

const errors = { 400: HttpError, 401: HttpError, 403: HttpError, 404: HttpError, 429: HttpError };

/** Run graphs: a workflow's LangGraph graph, and the graph a given task runs (workflow or FlowGram). */
export function graphRoutes(app: FastifyInstance, ctx: HubContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/v1/workflows/:name/graph',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags: ['workflows'],
        summary: "A workflow's graph (nodes and edges, from LangGraph's getGraph())",
        params: WorkflowNameParams,
        response: { 200: RunGraph, ...errors },
      },
    },
    async (req) => ctx.workflows.registry.graph(req.params.name),
  );
  r.get(
    '/api/v1/tasks/:id/graph',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags: ['tasks'],
        summary: "The graph a workflow or FlowGram task runs; colour its nodes from the task's node events",
        params: TaskIdParams,
        response: { 200: RunGraph, ...errors },
      },
    },
    async (req) => taskGraph(ctx.tasks.require(req.params.id), ctx.workflows.registry),
  );
}
