import { HubError } from '../errors.js';
import { isTerminal, type Task, type TaskEvent } from '../protocol/tasks.js';
import type { ToolCall } from './types.js';

/**
 * Follows one task from its first event to its end, handing every event to `onEvent` in seq order, and
 * resolves with the task as it ended. When the call is aborted (MCP cancellation, or the session closing),
 * the task is cancelled for real through the dispatcher, as `cancel_task` would; the promise then resolves
 * with the task as it stands (the SDK sends no response to a cancelled request).
 */
export function followTask(call: ToolCall, taskId: string, onEvent: (e: TaskEvent) => void): Promise<Task> {
  const { tasks, dispatcher, logger } = call.hub;
  return new Promise((resolve) => {
    let lastSeq = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      unsubscribe();
      call.signal.removeEventListener('abort', onAbort);
      resolve(tasks.require(taskId));
    };
    const handle = (e: TaskEvent) => {
      if (done || e.seq <= lastSeq) return;
      lastSeq = e.seq;
      onEvent(e);
      if (e.type === 'status' && isTerminal(e.data.status)) finish();
    };
    const onAbort = () => {
      if (done) return;
      if (!call.shuttingDown()) {
        try {
          dispatcher.cancel(taskId);
        } catch (err) {
          // It ended on its own meanwhile: nothing to cancel.
          if (!(err instanceof HubError && err.code === 'task_finished'))
            logger.warn({ err, taskId }, 'mcp cancel');
        }
      }
      finish();
    };
    // Subscribe, then replay in the same tick: no event can slip in between, and seq drops duplicates.
    const unsubscribe = tasks.subscribeTask(taskId, handle);
    for (const e of tasks.replay(taskId, 0)) handle(e);
    if (done) return;
    if (call.signal.aborted) onAbort();
    else call.signal.addEventListener('abort', onAbort, { once: true });
  });
}
