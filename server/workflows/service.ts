import type { HubConfig } from '../config.js';
import type { CodeTasks } from '../dispatch/code-tasks.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { ExtensionRegistry } from '../dispatch/registry.js';
import { HubError } from '../errors.js';
import { addUsage, type ChatModel, resolveModel, type Usage } from '../llm/index.js';
import type { Logger } from '../log.js';
import type { PluginService } from '../plugins/index.js';
import type { Task } from '../protocol/tasks.js';
import type { WorkflowPayload, WorkflowRequest } from '../protocol/workflows.js';
import type { TaskService } from '../tasks/service.js';
import { buildTools, checkToolRefs } from '../tools/index.js';
import { agentChat } from './agent-chat.js';
import { omniverseAgent } from './omniverse-agent.js';
import { parsePayload, payloadOf, redactPayload } from './payload.js';
import { WorkflowRegistry } from './registry.js';
import { RunEvents } from './run-events.js';
import { runFailure } from './run-failure.js';
import { Scrubber } from './scrub.js';
import { RunStopped, type WorkflowDefinition, type WorkflowRun } from './types.js';

export interface WorkflowDeps {
  config: HubConfig;
  logger: Logger;
  tasks: TaskService;
  codeTasks: CodeTasks;
  dispatcher: Dispatcher;
  registry: ExtensionRegistry;
  /** Plugin tools a run may call (absent in hubs built without plugins). */
  plugins?: PluginService;
}

interface ActiveRun {
  controller: AbortController;
  events: RunEvents;
  timer: NodeJS.Timeout;
}

/**
 * Workflow tasks: validates a request, creates the task (input stored redacted), runs the workflow's graph in
 * the hub, and ends the task. It owns cancel for its kind: abort the run's signal (model stream, HTTP tools,
 * child code tasks) and end the task at once, whatever the run was doing.
 */
export class WorkflowService {
  readonly registry: WorkflowRegistry;
  private readonly active = new Map<string, ActiveRun>();

  constructor(private readonly deps: WorkflowDeps) {
    const defaults = { maxIterations: deps.config.workflowMaxIterations };
    this.registry = new WorkflowRegistry([agentChat(defaults), omniverseAgent(defaults)]);
    deps.dispatcher.registerCanceller('workflow', (id) => this.cancel(id));
  }

  /** Starts a run; throws a 4xx HubError naming the field for a bad request, before any task exists. */
  start(name: string, request: WorkflowRequest): Task {
    const definition = this.registry.require(name);
    const payload = parsePayload(definition.inputSchema, payloadOf(request));
    const rc = payload.runtime_config;
    checkToolRefs(rc.tools, undefined, this.deps.plugins);
    const model = resolveModel(rc.model, this.deps.config);
    const timeoutMs = rc.timeout_ms ?? this.deps.config.workflowTimeoutMs;
    if (timeoutMs > this.deps.config.maxTimeoutMs) {
      throw new HubError(
        'bad_request',
        `runtime_config.timeout_ms: at most ${this.deps.config.maxTimeoutMs} ms`,
        {
          field: 'runtime_config.timeout_ms',
        },
      );
    }
    const task = this.deps.tasks.create({
      kind: 'workflow',
      input: { workflow: name, model: model.name, ...redactPayload(payload) },
      timeoutMs,
      maxAttempts: 1,
      traceId: payload.task_meta.trace_id,
    });
    this.deps.tasks.transition(task.id, 'running', 'started');
    this.launch(task, definition, payload, model);
    return this.deps.tasks.requireLive(task.id);
  }

  /** Ends a run as cancelled now; its model stream, HTTP calls and child tasks are aborted with it. */
  cancel(taskId: string, message = 'cancelled by request'): Task {
    const task = this.deps.tasks.requireLive(taskId);
    if (!this.stop(taskId, 'cancelled', message)) {
      // Not running here (e.g. left over from another process): just end it.
      return this.deps.tasks.finish(taskId, 'cancelled', {
        reason: 'cancelled',
        message,
      });
    }
    return this.deps.tasks.live(task.id) ?? task;
  }

  /** Hub shutdown: runs end failed (as a restart would end them) before the store closes. */
  close(): void {
    for (const id of [...this.active.keys()]) this.stop(id, 'shutdown');
  }

  private launch(
    task: Task,
    definition: WorkflowDefinition,
    payload: WorkflowPayload,
    model: ChatModel,
  ): void {
    const { config, tasks, logger } = this.deps;
    const rc = payload.runtime_config;
    const controller = new AbortController();
    const scrubber = new Scrubber([...Object.values(rc.vault), rc.model.api_key, config.llmApiKey]);
    const events = new RunEvents(tasks, task.id, scrubber, config.tokenCoalesceMs);
    const timer = setTimeout(() => this.stop(task.id, 'timed_out'), task.timeoutMs);
    this.active.set(task.id, { controller, events, timer });
    let usage: Usage | null = null;
    const log = logger.child({ taskId: task.id, traceId: task.traceId, workflow: definition.name });
    const run: WorkflowRun = {
      taskId: task.id,
      traceId: task.traceId,
      signal: controller.signal,
      model,
      events,
      logger: log,
      tools: (extra = []) => {
        const names = new Set(rc.tools.map((t) => (typeof t === 'string' ? t : t.name)));
        return buildTools([...rc.tools, ...extra.filter((n) => !names.has(n))], {
          vault: rc.vault,
          http: { timeoutS: config.httpToolTimeoutS, maxBytes: config.httpToolMaxBytes },
          kit: {
            ...this.deps,
            parentId: task.id,
            traceId: task.traceId,
            target: rc.kit.target,
            timeoutMs: rc.kit.timeout_ms,
            output: (stream, text) => events.emit('output', { stream, text }),
          },
          plugins: this.deps.plugins && {
            plugins: this.deps.plugins,
            tasks,
            dispatcher: this.deps.dispatcher,
            parentId: task.id,
            traceId: task.traceId,
            progress: (data) => events.emit('progress', data),
          },
        });
      },
      scrub: (value) => scrubber.scrub(value),
      addUsage: (u) => {
        usage = addUsage(usage, u);
      },
    };
    log.info({ model: model.name }, 'workflow started');
    // Next tick: the caller subscribes to the task's events (SSE, ack then subscribe) before the first token.
    // Plugins behind the run's tools start first, so the model is shown their real argument schemas.
    const toolRefs = rc.tools.filter((t): t is string => typeof t === 'string');
    const pluginsReady = this.deps.plugins?.prepare(toolRefs) ?? Promise.resolve();
    setImmediate(() => {
      pluginsReady
        .then(() => definition.run(payload, run))
        .then(
          (outcome) => {
            if (!this.end(task.id)) return;
            events.close();
            const result = scrubber.scrub(outcome.result);
            tasks.append(task.id, 'done', {
              result,
              ...(usage ? { usage } : {}),
              ...(outcome.finishReason ? { finishReason: outcome.finishReason } : {}),
            });
            tasks.transition(task.id, 'succeeded', 'completed', { result });
          },
          (err: unknown) => {
            if (!this.end(task.id)) return;
            events.close();
            const error = scrubber.scrub(runFailure(err, definition.name));
            if (error.code === 'internal') log.error({ err }, 'workflow failed');
            tasks.finish(task.id, 'failed', { reason: 'error', error });
          },
        );
    });
  }

  /** Marks a run over; false when it was already ended by a stop (its late outcome is then dropped). */
  private end(taskId: string): boolean {
    const entry = this.active.get(taskId);
    if (!entry || entry.controller.signal.aborted) return false;
    clearTimeout(entry.timer);
    this.active.delete(taskId);
    return true;
  }

  private stop(taskId: string, why: RunStopped['why'], message = 'cancelled by request'): boolean {
    const entry = this.active.get(taskId);
    if (!entry) return false;
    this.active.delete(taskId);
    clearTimeout(entry.timer);
    // Tokens streamed before the stop are kept; anything the aborted run says afterwards is not.
    entry.events.close();
    entry.controller.abort(new RunStopped(why));
    const { tasks } = this.deps;
    if (why === 'cancelled') {
      tasks.finish(taskId, 'cancelled', { reason: 'cancelled', message });
    } else if (why === 'timed_out') {
      const t = tasks.requireLive(taskId);
      tasks.finish(taskId, 'timed_out', {
        reason: 'timed_out',
        error: { code: 'timed_out', message: `the workflow ran past its timeout of ${t.timeoutMs / 1000}s` },
      });
    } else {
      tasks.finish(taskId, 'failed', {
        reason: 'hub_restarted',
        error: { code: 'hub_restarted', message: 'the hub shut down while the workflow was running' },
      });
    }
    return true;
  }
}
