import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HubContext } from '../context.js';
import { HubError } from '../errors.js';
import {
  ExecBody,
  type ExecResult,
  ExecResult as ExecResultSchema,
  ExecTaskParams,
  Health,
  HttpError,
  parseExecTarget,
  QueueResult,
} from '../protocol/http.js';
import { HUB_VERSION } from '../protocol/index.js';
import { type Target, Target as TargetSchema, type Task } from '../protocol/tasks.js';
import type { TaskService } from '../tasks/service.js';
import { requireRole } from './auth-hook.js';
import { followExecution, type OutputSoFar } from './exec-output.js';

/** The exec platform's `target` string as a native target; a bad label is the caller's `target` field. */
function execTarget(target: string | undefined): Target {
  const parsed = TargetSchema.safeParse(parseExecTarget(target));
  if (parsed.success) return parsed.data;
  throw new HubError('bad_request', `target: ${parsed.error.issues[0]?.message ?? 'not a target'}`, {
    field: 'target',
  });
}

const errors = {
  400: HttpError,
  401: HttpError,
  403: HttpError,
  404: HttpError,
  422: HttpError,
  429: HttpError,
};

/** The exec platform's view of a task: output streams joined (as collected, or read back), durations in ms. */
export async function execResultOf(
  tasks: TaskService,
  task: Task,
  output?: OutputSoFar,
): Promise<ExecResult> {
  let stdout = output?.stdout ?? '';
  let stderr = output?.stderr ?? '';
  if (!output)
    for (const e of await tasks.replay(task.id, 0)) {
      if (e.type !== 'output') continue;
      if (e.data.stream === 'stdout') stdout += e.data.text;
      else stderr += e.data.text;
    }
  const duration =
    task.startedAt && task.endedAt ? Date.parse(task.endedAt) - Date.parse(task.startedAt) : null;
  return {
    task_id: task.id,
    status: task.status,
    stdout,
    stderr,
    result: task.result ?? null,
    error: task.error?.message ?? null,
    traceback: task.error?.traceback ?? null,
    duration_ms: duration,
  };
}

/** Omniverse exec platform compatibility: same paths and shapes its clients use. */
export function execCompatRoutes(app: FastifyInstance, ctx: HubContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { tasks, codeTasks } = ctx;
  const submit = (body: ExecBody) =>
    codeTasks.submit({
      code: body.code,
      target: execTarget(body.target),
      ...(body.timeout ? { timeoutMs: Math.round(body.timeout * 1000) } : {}),
    });

  r.post(
    '/execute',
    {
      onRequest: requireRole(ctx, 'submit'),
      schema: {
        tags: ['exec platform'],
        summary: 'Run code and wait for it (up to its timeout in seconds)',
        body: ExecBody,
        response: { 200: ExecResultSchema, ...errors },
      },
    },
    async (req, reply) => {
      const task = await submit(req.body);
      // The task's own deadline (counted from submission, queued or not) ends it; the margin only lets the
      // timed_out status arrive before we answer.
      const output = await followExecution(tasks, task.id, task.timeoutMs + 5_000, reply.raw);
      return execResultOf(tasks, tasks.live(task.id) ?? (await tasks.require(task.id)), output);
    },
  );

  r.post(
    '/queue',
    {
      onRequest: requireRole(ctx, 'submit'),
      schema: {
        tags: ['exec platform'],
        summary: 'Queue code; returns the task id at once',
        body: ExecBody,
        response: { 200: QueueResult, ...errors },
      },
    },
    async (req) => {
      const task = await submit(req.body);
      return { task_id: task.id, status: task.status };
    },
  );

  r.get(
    '/status/:task_id',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags: ['exec platform'],
        summary: 'Status and output of a task',
        params: ExecTaskParams,
        response: { 200: ExecResultSchema, ...errors },
      },
    },
    async (req) => execResultOf(tasks, await tasks.require(req.params.task_id)),
  );

  r.get(
    '/last_status',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags: ['exec platform'],
        summary: 'The most recent code task',
        response: { 200: ExecResultSchema, ...errors },
      },
    },
    async () => {
      const last = (await tasks.list({ kind: 'code', limit: 1 })).tasks[0];
      if (!last) throw new HubError('not_found', 'no task has been submitted yet');
      return execResultOf(tasks, await tasks.require(last.id));
    },
  );

  r.get(
    '/healthz',
    { schema: { tags: ['health'], summary: 'Liveness (no auth)', response: { 200: Health } } },
    async () => ({
      status: 'ok' as const,
      version: HUB_VERSION,
      uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000),
      extensions_online: ctx.registry.all().length,
      tasks_active: tasks.activeTasks().length,
    }),
  );
}
