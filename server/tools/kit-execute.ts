import { z } from 'zod';
import type { CodeTasks } from '../dispatch/code-tasks.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { ExtensionRegistry } from '../dispatch/registry.js';
import { HubError } from '../errors.js';
import type { Target, Task } from '../protocol/tasks.js';
import type { TaskService } from '../tasks/service.js';
import { waitForEnd } from '../tasks/wait.js';
import { NativeTool, type ToolContext, type ToolOutput } from './types.js';

/** What the model sees of stdout/stderr: the tail, where tracebacks and final prints are. */
const MAX_STREAM_CHARS = 8_000;

const Args = z
  .object({
    code: z.string().min(1).describe('Python to run inside Omniverse Kit; the last expression is returned'),
  })
  .strict();

export interface KitExecuteDeps {
  tasks: TaskService;
  codeTasks: CodeTasks;
  dispatcher: Dispatcher;
  registry: ExtensionRegistry;
  /** The workflow task: each run is its child, and its output is mirrored into the workflow's room. */
  parentId: string;
  traceId: string;
  target: Target;
  timeoutMs: number | undefined;
  /** Mirrors one chunk of child output into the workflow's events. */
  output: (stream: 'stdout' | 'stderr', text: string) => void;
}

/**
 * Runs Python on an extension as a child code task of the workflow, waits for it, and returns what happened
 * (output, result, error and traceback) so the model can read a failure and try again. Cancelling the
 * workflow cancels the child on the extension.
 */
export class KitExecuteTool extends NativeTool<typeof Args> {
  readonly name = 'kit_execute';
  readonly description =
    'Runs Python inside NVIDIA Omniverse Kit (omni.usd, pxr available) and returns stdout, stderr, the value ' +
    'of the last expression, and the error with its traceback if it raised.';
  readonly schema = Args;

  constructor(private readonly deps: KitExecuteDeps) {
    super();
  }

  protected async execute({ code }: z.output<typeof Args>, ctx: ToolContext): Promise<ToolOutput> {
    const { tasks, codeTasks, dispatcher, parentId } = this.deps;
    if (!this.hostAvailable()) {
      return {
        result: { status: 'not_run', error: 'no extension is online to run the code' },
        isError: true,
      };
    }
    let child: Task;
    try {
      // The child names the call it runs for, so a viewer links the two as soon as the child exists.
      child = await codeTasks.submit(
        {
          code,
          target: this.deps.target,
          parentId,
          traceId: this.deps.traceId,
          ...(this.deps.timeoutMs ? { timeoutMs: this.deps.timeoutMs } : {}),
        },
        { parentCallId: ctx.callId },
      );
    } catch (err) {
      // A policy refusal is something the model can fix: it is told, the run goes on.
      if (err instanceof HubError)
        return { result: { status: 'refused', error: err.message }, isError: true };
      throw err;
    }
    const streams = { stdout: '', stderr: '' };
    // Subscribed in the tick of the submit: dispatch happens later, so no output is missed.
    const unsubscribe = tasks.subscribeTask(child.id, (e) => {
      if (e.type !== 'output') return;
      streams[e.data.stream] = (streams[e.data.stream] + e.data.text).slice(-MAX_STREAM_CHARS);
      this.deps.output(e.data.stream, e.data.text);
    });
    const stopChild = () => {
      try {
        dispatcher.cancelLive(child.id);
      } catch {
        // already ended
      }
    };
    ctx.signal.addEventListener('abort', stopChild, { once: true });
    try {
      const ended = await waitForEnd(tasks, child.id, child.timeoutMs + 5_000, ctx.signal);
      if (ctx.signal.aborted) throw ctx.signal.reason;
      return {
        result: {
          taskId: child.id,
          status: ended.status,
          stdout: streams.stdout,
          stderr: streams.stderr,
          result: ended.result,
          error: ended.error?.message ?? null,
          traceback: ended.error?.traceback ?? null,
        },
        isError: ended.status !== 'succeeded',
      };
    } finally {
      unsubscribe();
      ctx.signal.removeEventListener('abort', stopChild);
    }
  }

  private hostAvailable(): boolean {
    const { extensionId, label } = this.deps.target;
    return this.deps.registry
      .all()
      .some((r) => (!extensionId || r.info.id === extensionId) && (!label || r.info.labels.includes(label)));
  }
}
