import type { HubConfig } from '../../config.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import { HubError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Task } from '../../protocol/tasks.js';
import type { TaskService } from '../../tasks/service.js';
import { RunEvents } from '../run-events.js';
import { Scrubber } from '../scrub.js';
import { FlowDocument } from './document.js';
import { type EngineHooks, FlowEngine, NodeChainError, RunAborted } from './engine.js';
import { nodeExecutors } from './nodes/index.js';
import { WorkflowSchema } from './schema.js';
import { runSecrets } from './secrets.js';
import { RunState } from './state.js';
import { type ValidationResult, validateWorkflow } from './validate.js';
import { VariableStore } from './variables.js';

export interface FlowgramDeps {
  config: HubConfig;
  logger: Logger;
  tasks: TaskService;
  dispatcher: Dispatcher;
}

interface ActiveRun {
  engine: FlowEngine;
  events: RunEvents;
  timer: NodeJS.Timeout;
}

type StopWhy = 'cancelled' | 'timed_out' | 'shutdown';

/** A FlowGram request's schema: FlowGram sends it as a JSON string; the native API also takes the object. */
export function parseSchemaText(schema: unknown): unknown {
  if (typeof schema !== 'string') return schema;
  try {
    return JSON.parse(schema) as unknown;
  } catch (err) {
    throw new HubError('bad_request', `schema: not valid JSON (${(err as Error).message})`, {
      field: 'schema',
    });
  }
}

/**
 * FlowGram tasks: validates and starts a schema as a task of kind `flowgram`, runs it on the FlowGram engine
 * in the hub, and publishes each node's start and end as task events (which the report is rebuilt from).
 * Cancel, timeout and shutdown stop the engine: nodes in flight end `canceled` and their model stream, HTTP
 * request or sandboxed code is aborted.
 */
export class FlowgramService {
  private readonly active = new Map<string, ActiveRun>();
  private readonly executors;

  constructor(private readonly deps: FlowgramDeps) {
    const { config } = deps;
    this.executors = nodeExecutors({
      llm: { maxRetries: config.llmMaxRetries, timeoutMs: config.llmTimeoutMs },
      code: { timeoutMs: config.flowgramCodeTimeoutMs, memoryMb: config.flowgramCodeMemoryMb },
    });
    deps.dispatcher.registerCanceller('flowgram', (id) => this.cancel(id));
  }

  validate(schema: unknown, inputs: unknown): ValidationResult {
    return validateWorkflow(parseSchemaText(schema), inputs ?? {});
  }

  /**
   * Creates the task and starts the run. A schema or inputs FlowGram would refuse still make a task (as in
   * FlowGram, the client asks the report why): it ends `failed` at once with FlowGram's messages.
   */
  start(schemaInput: unknown, inputsInput: Record<string, unknown> | undefined, traceId?: string): Task {
    const raw = parseSchemaText(schemaInput);
    const inputs = inputsInput ?? {};
    const check = validateWorkflow(raw, inputs);
    // Parsed even when FlowGram refuses it: a refused schema's keys must not reach the store either.
    const parsed = WorkflowSchema.safeParse(raw);
    const scrubber = new Scrubber(parsed.success ? runSecrets(parsed.data, inputs) : []);
    const { tasks, config } = this.deps;
    const task = tasks.create({
      kind: 'flowgram',
      input: scrubber.scrub({ schema: raw, inputs }) as Record<string, unknown>,
      timeoutMs: config.flowgramTimeoutMs,
      maxAttempts: 1,
      traceId,
    });
    if (!check.valid || !parsed.success) {
      const errors =
        check.errors ?? parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
      tasks.finish(task.id, 'failed', {
        reason: 'error',
        result: {},
        error: {
          code: 'bad_request',
          message: errors[0] ?? 'invalid workflow',
          details: { validation: errors },
        },
      });
      return tasks.requireLive(task.id);
    }
    tasks.transition(task.id, 'running', 'started');
    this.launch(task, parsed.data, inputs, scrubber);
    return tasks.requireLive(task.id);
  }

  cancel(taskId: string): Task {
    const task = this.deps.tasks.requireLive(taskId);
    if (!this.stop(taskId, 'cancelled')) {
      return this.deps.tasks.finish(taskId, 'cancelled', {
        reason: 'cancelled',
        message: 'cancelled by request',
      });
    }
    return this.deps.tasks.live(task.id) ?? task;
  }

  close(): void {
    for (const id of [...this.active.keys()]) this.stop(id, 'shutdown');
  }

  private launch(
    task: Task,
    schema: WorkflowSchema,
    inputs: Record<string, unknown>,
    scrubber: Scrubber,
  ): void {
    const { tasks, config, logger } = this.deps;
    const events = new RunEvents(tasks, task.id, scrubber, config.tokenCoalesceMs);
    const hooks: EngineHooks = {
      nodeStart: ({ node, inputs: nodeInputs, loop }) =>
        events.emit('node_start', {
          node: node.id,
          nodeType: node.type,
          title: node.title,
          ...(nodeInputs ? { inputs: nodeInputs } : {}),
          ...(loop ? { loop } : {}),
        }),
      nodeEnd: (e) =>
        events.emit('node_end', {
          node: e.node.id,
          nodeType: e.node.type,
          status: e.status,
          ...(e.outputs ? { outputs: e.outputs } : {}),
          ...(e.inputs ? { inputs: e.inputs } : {}),
          ...(e.branch ? { branch: e.branch } : {}),
          ...(e.error !== undefined ? { error: e.error } : {}),
          ...(e.loop ? { loop: e.loop } : {}),
        }),
      token: (node, text) => events.token(text, node.id),
    };
    let engine: FlowEngine;
    const log = logger.child({ taskId: task.id, traceId: task.traceId });
    try {
      engine = new FlowEngine(new FlowDocument(schema), this.executors, hooks);
    } catch (err) {
      events.close();
      tasks.finish(task.id, 'failed', {
        reason: 'error',
        result: {},
        error: { code: 'bad_request', message: (err as Error).message },
      });
      return;
    }
    const timer = setTimeout(() => this.stop(task.id, 'timed_out'), task.timeoutMs);
    this.active.set(task.id, { engine, events, timer });
    const state = new RunState(new VariableStore());
    state.setGlobals(schema.globalVariable);
    // Next tick: the caller (HTTP answer, socket ack) subscribes before the first node event.
    setImmediate(() => {
      engine.run(state, inputs).then(
        (outputs) => {
          if (!this.end(task.id)) return;
          events.close();
          const result = scrubber.scrub(outputs);
          tasks.finish(task.id, 'succeeded', { reason: 'completed', result });
        },
        (err: unknown) => {
          if (!this.end(task.id)) return;
          // Parallel branches still going die with the run: they end `canceled`, their work aborted.
          engine.stop(new RunAborted());
          events.close();
          const first = engine.failed;
          const message = first
            ? `node ${first.nodeId}: ${first.message}`
            : err instanceof Error
              ? err.message
              : String(err);
          if (!(err instanceof Error)) log.error({ err }, 'FlowGram run failed');
          tasks.finish(task.id, 'failed', {
            reason: 'error',
            result: scrubber.scrub(engine.outputs),
            error: scrubber.scrub({
              code: 'execution_failed' as const,
              message,
              ...(first ? { field: first.nodeId, details: { node: first.nodeId } } : {}),
              ...(err instanceof NodeChainError ? { field: err.nodeId, details: { node: err.nodeId } } : {}),
            }),
          });
        },
      );
    });
  }

  /** Marks a run over; false when a stop already ended it (its late outcome is dropped). */
  private end(taskId: string): boolean {
    const entry = this.active.get(taskId);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.active.delete(taskId);
    return true;
  }

  private stop(taskId: string, why: StopWhy): boolean {
    const entry = this.active.get(taskId);
    if (!entry) return false;
    this.active.delete(taskId);
    clearTimeout(entry.timer);
    entry.engine.stop(new RunAborted());
    entry.events.close();
    const { tasks } = this.deps;
    const result = entry.engine.outputs;
    if (why === 'cancelled') {
      tasks.finish(taskId, 'cancelled', { reason: 'cancelled', message: 'cancelled by request', result });
    } else if (why === 'timed_out') {
      const t = tasks.requireLive(taskId);
      tasks.finish(taskId, 'timed_out', {
        reason: 'timed_out',
        result,
        error: {
          code: 'timed_out',
          message: `the FlowGram run went past its timeout of ${t.timeoutMs / 1000}s`,
        },
      });
    } else {
      tasks.finish(taskId, 'failed', {
        reason: 'hub_restarted',
        result,
        error: { code: 'hub_restarted', message: 'the hub shut down while the FlowGram run was going' },
      });
    }
    return true;
  }
}
