import { z } from 'zod';
import type { HubContext } from '../../context.js';
import { HubError } from '../../errors.js';
import { Id, Label } from '../../protocol/common.js';
import type { Target, Task } from '../../protocol/tasks.js';
import { followTask } from '../follow.js';
import type { ToolCall } from '../types.js';

/** Output kept for the tool result; the task's events keep all of it. */
export const OUTPUT_LIMIT = 256 * 1024;

/** The target fields every code tool takes: flat, so a model can fill them without nesting. */
export const targetFields = {
  extensionId: Id.optional().describe('Run on this extension (an id from list_extensions)'),
  label: Label.optional().describe('Run on an extension carrying this label'),
};

/** Timeout in seconds, bounded by the hub's SWITCHBOARD_MAX_TIMEOUT_MS. */
export function timeoutField(hub: HubContext) {
  const max = hub.config.maxTimeoutMs / 1000;
  return z
    .number()
    .positive()
    .max(max, `at most ${max} seconds`)
    .optional()
    .describe(`Seconds the code may run (default ${hub.config.defaultTimeoutMs / 1000}, at most ${max})`);
}

/**
 * A queued code task whose target no host can serve would wait with no timer running (timeouts start at
 * dispatch): an MCP caller would hang. Refuse up front instead, naming the field.
 */
export function assertServable(hub: HubContext, target: Target): void {
  const online = hub.registry.list();
  const hint = ' (list_extensions shows who is online)';
  if (target.extensionId) {
    const ext = online.find((e) => e.id === target.extensionId);
    if (!ext) {
      throw new HubError(
        'not_found',
        `extensionId: no extension online with id ${target.extensionId}${hint}`,
        {
          field: 'extensionId',
        },
      );
    }
    if (target.label && !ext.labels.includes(target.label)) {
      throw new HubError('not_found', `label: extension ${ext.id} does not carry label ${target.label}`, {
        field: 'label',
      });
    }
  } else if (target.label) {
    if (!online.some((e) => e.labels.includes(target.label as string))) {
      throw new HubError('not_found', `label: no extension online carries label ${target.label}${hint}`, {
        field: 'label',
      });
    }
  } else if (online.length === 0) {
    throw new HubError('not_found', 'extensionId: no extension is online to run the code', {
      field: 'extensionId',
    });
  }
}

export interface CodeRun {
  task: Task;
  /** stdout and stderr as they came, interleaved; cut at OUTPUT_LIMIT. */
  output: string;
}

/**
 * Runs Python as an ordinary code task (same validation, policy, queue and room as any other submission),
 * streaming its output to the caller as notifications, and resolves once it has ended and every
 * notification has been handed to the transport, so the output always arrives before the result.
 */
export async function runCode(
  call: ToolCall,
  spec: { code: string; target: Target; timeoutS?: number | undefined },
): Promise<CodeRun> {
  const { hub, notify } = call;
  assertServable(hub, spec.target);
  const task = await hub.codeTasks.submit({
    code: spec.code,
    target: spec.target,
    ...(spec.timeoutS !== undefined ? { timeoutMs: Math.ceil(spec.timeoutS * 1000) } : {}),
  });
  let output = '';
  let dropped = 0;
  const ended = await followTask(call, task.id, (e) => {
    if (e.type === 'output') {
      notify.output(task.id, e.data.stream, e.data.text);
      const room = OUTPUT_LIMIT - output.length;
      if (room >= e.data.text.length) output += e.data.text;
      else {
        output += e.data.text.slice(0, Math.max(0, room));
        dropped += e.data.text.length - Math.max(0, room);
      }
    } else if (e.type === 'status') {
      notify.log('debug', 'status', { taskId: task.id, ...e.data });
    } else if (e.type === 'log') {
      notify.log(e.data.level === 'warn' ? 'warning' : e.data.level, 'task', { taskId: task.id, ...e.data });
    }
  });
  await notify.flush();
  if (dropped > 0)
    output += `\n[... ${dropped} characters left out; get_task or the task's events hold them]`;
  return { task: ended, output };
}

/** The outcome of a code task as tools report it. */
export function codeOutcome(run: CodeRun): Record<string, unknown> {
  const { task, output } = run;
  return {
    taskId: task.id,
    status: task.status,
    extensionId: task.extensionId,
    result: task.result ?? null,
    output,
    error: task.error
      ? {
          code: task.error.code,
          message: task.error.message,
          ...(task.error.traceback ? { traceback: task.error.traceback } : {}),
        }
      : null,
  };
}
