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
          dispatcher.cancelLive(taskId);
        } catch (err) {
          // It ended on its own meanwhile: nothing to cancel.
          if (!(err instanceof HubError && err.code === 'task_finished'))
            logger.warn({ err, taskId }, 'mcp cancel');
        }
      }
      finish();
    };
    // Replay then live, nothing missed or sent twice; seq drops duplicates.
    let unsubscribe = () => {};
    tasks.follow(taskId, 0, handle).then(
      (stop) => {
        if (done) stop();
        else unsubscribe = stop;
      },
      () => finish(),
    );
    if (done) return;
    if (call.signal.aborted) onAbort();
    else call.signal.addEventListener('abort', onAbort, { once: true });
  });
}
