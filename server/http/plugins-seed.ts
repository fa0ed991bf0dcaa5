import type { HubContext } from '../context.js';
import { fromZodError } from '../errors.js';
import {
  type PluginTaskRequest,
  PluginTaskRequest as PluginTaskRequestSchema,
  type PluginTaskResult,
  type TaskProgressOut,
} from '../protocol/plugins.js';
import { isTerminal, type Task, type TaskEvent } from '../protocol/tasks.js';

/** Starts a plugin task from a plugin-service body (validated here: the shared route takes any JSON). */
export async function startSeedTask(ctx: HubContext, body: unknown): Promise<Task> {
  const parsed = PluginTaskRequestSchema.safeParse(body);
  if (!parsed.success) throw fromZodError(parsed.error);
  return startParsedSeedTask(ctx, parsed.data);
}

export function startParsedSeedTask(
  ctx: HubContext,
  req: ReturnType<typeof PluginTaskRequestSchema.parse>,
): Promise<Task> {
  return ctx.plugins.startToolTask({
    tool: req.tool_name,
    plugin: req.plugin_name,
    arguments: req.parameters,
    resources: req.resources,
    timeoutMs: req.timeout ? Math.round(req.timeout * 1000) : undefined,
    metadata: req.metadata,
    origin: 'plugin-service',
  });
}

export type { PluginTaskRequest };

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** The seed's TaskResult for an ended plugin task (`status: error` with the reason when it did not succeed). */
export function seedResult(task: Task): PluginTaskResult {
  const r = task.result as
    | (Partial<PluginTaskResult> & { text?: string; structured_content?: unknown })
    | null;
  if (task.status === 'succeeded' && r && r.status === 'success') {
    return {
      task_id: task.id,
      status: 'success',
      output_files: r.output_files ?? [],
      output_resources: r.output_resources ?? [],
      error_message: '',
      execution_time: r.execution_time ?? 0,
      // A tool's text and structured answer have no seed field: they ride in metadata.
      metadata: {
        ...r.metadata,
        ...(r.text ? { text: r.text } : {}),
        ...(r.structured_content != null ? { structured_content: r.structured_content } : {}),
      },
    };
  }
  const started = Date.parse(task.startedAt ?? task.createdAt);
  const ended = Date.parse(task.endedAt ?? new Date().toISOString());
  return {
    task_id: task.id,
    status: 'error',
    output_files: [],
    output_resources: [],
    error_message: task.error?.message ?? `task ${task.status}`,
    execution_time: Math.max(0, (ended - started) / 1000),
    metadata: {
      plugin_name: str(task.input['plugin']),
      tool_name: str(task.input['tool']),
      status: task.status,
      ...(task.error ? { code: task.error.code } : {}),
    },
  };
}

/** The last progress a plugin task reported, from its event log. */
export async function lastProgress(
  ctx: HubContext,
  task: Task,
): Promise<{ percent: number; message: string }> {
  if (task.status === 'succeeded') return { percent: 100, message: 'Task completed' };
  let percent = 0;
  let message = task.status === 'queued' ? 'Waiting for the plugin' : '';
  for (const e of await ctx.tasks.replay(task.id, 0)) {
    if (e.type !== 'progress') continue;
    if (e.data.percent !== undefined) percent = e.data.percent;
    if (e.data.message) message = e.data.message;
  }
  if (isTerminal(task.status)) message = task.error?.message ?? `task ${task.status}`;
  return { percent, message };
}

/** The seed's snake_case fields, added beside the native Task for plugin tasks in GET /api/v1/tasks/{id}. */
export async function withSeedFields(ctx: HubContext, task: Task): Promise<Task & Record<string, unknown>> {
  if (task.kind !== 'plugin') return task;
  const p = await lastProgress(ctx, task);
  return {
    ...task,
    task_id: task.id,
    tool_name: str(task.input['tool']),
    plugin_name: str(task.input['plugin']),
    percent: p.percent,
    message: p.message,
  };
}

/**
 * Task events in the seed's stream: `started` when it runs, `progress` per progress event, `completed` or
 * `failed` at the end followed by the result (`_type: result`). Other events have no seed form.
 */
export class SeedStream {
  private percent = 0;

  constructor(
    private readonly ctx: HubContext,
    private readonly taskId: string,
  ) {}

  progress(
    type: TaskProgressOut['type'],
    message: string,
    data: Record<string, unknown> = {},
  ): TaskProgressOut {
    return {
      _type: 'progress',
      task_id: this.taskId,
      type,
      percent: this.percent,
      message,
      timestamp: new Date().toISOString(),
      data,
    };
  }

  heartbeat(): TaskProgressOut {
    return this.progress('heartbeat', '');
  }

  map(e: TaskEvent): unknown[] {
    if (e.type === 'progress') {
      if (e.data.percent !== undefined) this.percent = e.data.percent;
      return [this.progress('progress', e.data.message ?? '')];
    }
    if (e.type !== 'status') return [];
    const { status } = e.data;
    if (status === 'running') {
      const t = this.ctx.tasks.requireLive(this.taskId);
      return [
        this.progress('started', 'Task started', {
          plugin_name: t.input['plugin'],
          tool_name: t.input['tool'],
        }),
      ];
    }
    if (!isTerminal(status)) return [];
    const task = this.ctx.tasks.requireLive(this.taskId);
    const result = seedResult(task);
    if (status === 'succeeded') {
      this.percent = 100;
      return [this.progress('completed', 'Task completed'), { _type: 'result', ...result }];
    }
    return [
      this.progress('failed', result.error_message, { status, code: task.error?.code }),
      { _type: 'result', ...result },
    ];
  }
}
