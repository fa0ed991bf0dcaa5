import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { HubConfig } from '../config.js';
import { fromZodError, HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { type PluginTaskResult, ResourceInput } from '../protocol/plugins.js';
import type { Task, TaskError } from '../protocol/tasks.js';
import type { TaskService } from '../tasks/service.js';
import type { PluginHost, PluginToolInfo } from './host.js';
import { collectOutputs } from './outputs.js';
import type { ResolvedResource, ResourceResolver } from './resources.js';
import { PluginDown, type PluginLog, type PluginSession } from './session.js';
import { Slots } from './slots.js';

/** A request to run one plugin tool as a task: what HTTP, workflows and the hub's MCP server all send. */
export interface StartToolTask {
  /** Tool type (`text2image`) or the MCP tool name of a plugin that declares none. */
  tool: string;
  plugin?: string | undefined;
  arguments?: Record<string, unknown> | undefined;
  resources?: unknown[] | undefined;
  timeoutMs?: number | undefined;
  parentId?: string | undefined;
  /** The parent's tool call this task runs for (a workflow's plugin tool call). */
  parentCallId?: string | undefined;
  traceId?: string | undefined;
  /** Who asked (`plugin-service`, `native`, `workflow`, `mcp`): kept in the task's input. */
  origin?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
}

/** The `result` of a succeeded plugin task: the seed's TaskResult plus the MCP answer. */
export interface PluginTaskOutcome extends PluginTaskResult {
  text: string;
  content: unknown[];
  structured_content: unknown;
}

class Stopped extends Error {
  constructor(readonly why: 'cancelled' | 'timed_out' | 'shutdown') {
    super(why);
  }
}

interface ActiveCall {
  controller: AbortController;
  timer: NodeJS.Timeout;
  plugin: string;
  running: boolean;
}

const Resources = z.array(ResourceInput).max(32);

/**
 * Plugin tool calls as tasks (kind `plugin`): waits for a slot of the plugin, fetches resources, calls the MCP
 * tool with progress, turns progress and log notifications into events, writes outputs, and ends the task.
 * Cancel sends MCP cancellation (through the aborted request) and ends the task at once; so does the timeout.
 */
export class PluginRunner {
  private readonly active = new Map<string, ActiveCall>();
  private readonly slots = new Map<string, Slots>();

  constructor(
    private readonly deps: { config: HubConfig; logger: Logger; tasks: TaskService },
    private readonly host: PluginHost,
    private readonly resources: ResourceResolver,
  ) {}

  async start(req: StartToolTask): Promise<Task> {
    const { config, tasks } = this.deps;
    const parsed = Resources.safeParse(req.resources ?? []);
    if (!parsed.success) throw fromZodError(parsed.error, 'resources');
    const resources = parsed.data;
    const { session, tool } = await this.host.resolve(req.tool, req.plugin);
    await this.resources.precheck(resources);
    const timeoutMs = req.timeoutMs ?? session.spec.task_timeout * 1000;
    if (timeoutMs > config.maxTimeoutMs) {
      throw new HubError('bad_request', `timeout: at most ${config.maxTimeoutMs / 1000} s`, {
        field: 'timeout',
      });
    }
    const task = tasks.create({
      kind: 'plugin',
      input: {
        tool: tool.name,
        plugin: tool.plugin,
        mcp_tool: tool.mcpTool,
        arguments: req.arguments ?? {},
        // Stored without base64 payloads: the task keeps what was asked, not megabytes of data.
        resources: resources.map((r) => ({
          type: r.type,
          mime_type: r.mime_type,
          data: r.type === 'base64' ? `[base64, ${r.data.length} chars]` : r.data,
        })),
        origin: req.origin ?? 'native',
        ...(req.metadata && Object.keys(req.metadata).length ? { metadata: req.metadata } : {}),
      },
      timeoutMs,
      maxAttempts: 1,
      parentId: req.parentId,
      parentCallId: req.parentId ? req.parentCallId : undefined,
      traceId: req.traceId,
    });
    const controller = new AbortController();
    const timer = setTimeout(() => this.stop(task.id, 'timed_out'), timeoutMs);
    this.active.set(task.id, { controller, timer, plugin: tool.plugin, running: false });
    // Next tick: whoever created the task subscribes to its room before anything happens.
    setImmediate(() => {
      this.run(task.id, session, tool, req.arguments ?? {}, resources, controller.signal).catch(
        (err: unknown) => {
          this.deps.logger.error({ err, taskId: task.id }, 'plugin task runner failed');
        },
      );
    });
    return tasks.requireLive(task.id);
  }

  /** Ends a plugin task as cancelled now; the MCP request is cancelled with it. */
  cancel(taskId: string): Task {
    if (!this.stop(taskId, 'cancelled')) {
      return this.deps.tasks.finish(taskId, 'cancelled', {
        reason: 'cancelled',
        message: 'cancelled by request',
      });
    }
    return this.deps.tasks.requireLive(taskId);
  }

  /** A log notification from a plugin goes to its running tasks' rooms. */
  onLog(plugin: string, log: PluginLog): void {
    for (const [taskId, call] of this.active) {
      if (call.plugin === plugin && call.running) this.deps.tasks.append(taskId, 'log', log);
    }
  }

  close(): void {
    for (const id of [...this.active.keys()]) this.stop(id, 'shutdown');
  }

  private async run(
    taskId: string,
    session: PluginSession,
    tool: PluginToolInfo,
    args: Record<string, unknown>,
    resources: z.output<typeof Resources>,
    signal: AbortSignal,
  ): Promise<void> {
    const { tasks } = this.deps;
    const started = Date.now();
    let release: (() => void) | undefined;
    try {
      release = await this.slotsOf(session).acquire(signal);
      const call = this.active.get(taskId);
      if (!call) return;
      call.running = true;
      tasks.transition(taskId, 'running', 'started');
      const resolved: ResolvedResource[] = [];
      for (const [i, r] of resources.entries()) {
        resolved.push(await this.resources.resolve(r, `resources.${i}.data`, signal));
      }
      const callArgs = resolved.length ? { ...args, resources: resolved } : args;
      const result = await session.callTool(tool.mcpTool, callArgs, {
        signal,
        timeoutMs: tasks.requireLive(taskId).timeoutMs,
        onprogress: (p) => this.progress(taskId, p, signal),
      });
      if (signal.aborted || !this.end(taskId)) return;
      await this.succeed(taskId, tool, result, started);
    } catch (err) {
      if (signal.aborted || !this.end(taskId)) return;
      tasks.finish(taskId, 'failed', { reason: 'error', error: this.failure(err, tool) });
    } finally {
      release?.();
    }
  }

  private progress(taskId: string, p: Progress, signal: AbortSignal): void {
    if (signal.aborted || !this.active.has(taskId)) return;
    const fraction = p.total ? Math.min(1, Math.max(0, p.progress / p.total)) : undefined;
    this.deps.tasks.append(taskId, 'progress', {
      ...(fraction !== undefined ? { fraction, percent: Math.round(fraction * 1000) / 10 } : {}),
      ...(p.message ? { message: p.message } : {}),
    });
  }

  private async succeed(
    taskId: string,
    tool: PluginToolInfo,
    result: CallToolResult,
    started: number,
  ): Promise<void> {
    const { tasks } = this.deps;
    const collected = await collectOutputs(this.resources.outputsDir, taskId, result);
    if (result.isError) {
      tasks.finish(taskId, 'failed', {
        reason: 'error',
        error: { code: 'plugin_failed', message: collected.text || `tool ${tool.name} reported an error` },
      });
      return;
    }
    const outcome: PluginTaskOutcome = {
      task_id: taskId,
      status: 'success',
      output_files: collected.outputs.map((o) => o.path),
      output_resources: collected.outputs,
      error_message: '',
      execution_time: (Date.now() - started) / 1000,
      metadata: { plugin_name: tool.plugin, tool_name: tool.name, mcp_tool: tool.mcpTool },
      text: collected.text,
      content: collected.content,
      structured_content: result.structuredContent ?? null,
    };
    tasks.finish(taskId, 'succeeded', { reason: 'completed', result: outcome });
  }

  private failure(err: unknown, tool: PluginToolInfo): TaskError {
    if (err instanceof HubError) {
      return { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) };
    }
    if (err instanceof PluginDown) {
      return { code: err.kind === 'died' ? 'plugin_failed' : 'plugin_unavailable', message: err.message };
    }
    // MCP errors (the server refused the call, or answered with a JSON-RPC error) and anything else.
    this.deps.logger.warn({ err, plugin: tool.plugin }, 'plugin call failed');
    return {
      code: 'plugin_failed',
      message: `plugin ${tool.plugin}: ${(err as Error)?.message ?? String(err)}`,
    };
  }

  private slotsOf(session: PluginSession): Slots {
    let s = this.slots.get(session.spec.name);
    if (!s) {
      s = new Slots(session.spec.concurrency);
      this.slots.set(session.spec.name, s);
    }
    return s;
  }

  /** Marks a call over; false when a stop already ended the task (its late outcome is dropped). */
  private end(taskId: string): boolean {
    const call = this.active.get(taskId);
    if (!call) return false;
    clearTimeout(call.timer);
    this.active.delete(taskId);
    return true;
  }

  private stop(taskId: string, why: Stopped['why']): boolean {
    const call = this.active.get(taskId);
    if (!call) return false;
    this.active.delete(taskId);
    clearTimeout(call.timer);
    // Aborting the request makes the SDK send notifications/cancelled to the plugin.
    call.controller.abort(new Stopped(why));
    const { tasks } = this.deps;
    if (why === 'cancelled') {
      tasks.finish(taskId, 'cancelled', { reason: 'cancelled', message: 'cancelled by request' });
    } else if (why === 'timed_out') {
      const t = tasks.requireLive(taskId);
      tasks.finish(taskId, 'timed_out', {
        reason: 'timed_out',
        error: {
          code: 'timed_out',
          message: `the plugin call ran past its timeout of ${t.timeoutMs / 1000}s`,
        },
      });
    } else {
      tasks.finish(taskId, 'failed', {
        reason: 'hub_restarted',
        error: { code: 'hub_restarted', message: 'the hub shut down while the plugin call was running' },
      });
    }
    return true;
  }
}
