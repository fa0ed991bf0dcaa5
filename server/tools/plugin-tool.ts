import type { Dispatcher } from '../dispatch/dispatcher.js';
import { HubError } from '../errors.js';
import type { PluginService, PluginTaskOutcome, PluginToolInfo } from '../plugins/index.js';
import type { EventDataOf } from '../protocol/tasks.js';
import type { TaskService } from '../tasks/service.js';
import { waitForEnd } from '../tasks/wait.js';
import type { Tool, ToolContext, ToolOutput } from './types.js';

export interface PluginToolDeps {
  plugins: PluginService;
  tasks: TaskService;
  dispatcher: Dispatcher;
  /** The workflow task: each call is its child task. */
  parentId: string;
  traceId: string;
  /** Mirrors the child's progress into the workflow's room. */
  progress: (data: EventDataOf<'progress'>) => void;
}

const OPEN_OBJECT = { type: 'object', additionalProperties: true };

/**
 * `plugin__tool` names one plugin's tool (payload tool names allow only letters, digits, _ and -); a plain name
 * is a tool type whichever plugin serves it.
 */
function splitRef(ref: string): { plugin?: string; tool: string } {
  const cut = ref.indexOf('__');
  return cut > 0 ? { plugin: ref.slice(0, cut), tool: ref.slice(cut + 2) } : { tool: ref };
}

/** Whether a payload's tool reference names a plugin tool (known now, or on a plugin that lists its own). */
export function isPluginToolRef(plugins: PluginService | undefined, ref: string): boolean {
  if (!plugins) return false;
  const { plugin, tool } = splitRef(ref);
  if (plugins.knownTools().some((t) => t.name === tool && (!plugin || t.plugin === plugin))) return true;
  // A plugin that declares no tools learns them when it starts: accept `plugin__tool` for it, checked at call.
  return (
    plugin !== undefined && plugins.plugins().some((p) => p.name === plugin && p.tool_types.length === 0)
  );
}

/**
 * A plugin tool offered to a workflow's model: each call runs as a child task of kind `plugin`, its progress
 * streams into the workflow's room, and the model reads the tool's text, outputs (URLs) or error.
 */
export class PluginTool implements Tool {
  readonly name: string;
  readonly description: string;
  readonly parameters: Record<string, unknown>;
  private readonly ref: { plugin?: string; tool: string };

  constructor(
    ref: string,
    private readonly deps: PluginToolDeps,
  ) {
    this.ref = splitRef(ref);
    this.name = ref;
    const info: PluginToolInfo | undefined = deps.plugins
      .knownTools()
      .find((t) => t.name === this.ref.tool && (!this.ref.plugin || t.plugin === this.ref.plugin));
    this.description = info?.description || `Plugin tool ${ref}`;
    this.parameters = info?.inputSchema ?? OPEN_OBJECT;
  }

  async run(args: unknown, ctx: ToolContext): Promise<ToolOutput> {
    const { plugins, tasks, dispatcher } = this.deps;
    const argObject =
      args && typeof args === 'object' && !Array.isArray(args) ? (args as Record<string, unknown>) : {};
    let childId: string;
    try {
      const child = await plugins.startToolTask({
        tool: this.ref.tool,
        plugin: this.ref.plugin,
        arguments: argObject,
        parentId: this.deps.parentId,
        parentCallId: ctx.callId,
        traceId: this.deps.traceId,
        origin: 'workflow',
      });
      childId = child.id;
    } catch (err) {
      // A tool the hub cannot run now is something the model is told, not the end of the run.
      if (err instanceof HubError)
        return { result: { status: 'not_run', error: err.message }, isError: true };
      throw err;
    }
    const unsubscribe = tasks.subscribeTask(childId, (e) => {
      if (e.type === 'progress') this.deps.progress(e.data);
    });
    const stopChild = () => {
      try {
        dispatcher.cancelLive(childId);
      } catch {
        // already ended
      }
    };
    ctx.signal.addEventListener('abort', stopChild, { once: true });
    try {
      const t = tasks.requireLive(childId);
      const ended = await waitForEnd(tasks, childId, t.timeoutMs + 5_000, ctx.signal);
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const outcome = ended.result as PluginTaskOutcome | null;
      return {
        result: {
          taskId: childId,
          status: ended.status,
          text: outcome?.text ?? '',
          outputs: (outcome?.output_resources ?? []).map((o) => ({
            url: o.url,
            mime_type: o.mime_type,
            size: o.size,
          })),
          structured_content: outcome?.structured_content ?? null,
          error: ended.error?.message ?? null,
        },
        isError: ended.status !== 'succeeded',
      };
    } finally {
      unsubscribe();
      ctx.signal.removeEventListener('abort', stopChild);
    }
  }
}
