import type { TaskWaiting } from '../protocol/graph.js';
import type { TaskEvent } from '../protocol/tasks.js';

/** The feed's `task:waiting` note for a queued task's "waiting: ..." log event; null for any other event. */
export function waitingNote(event: TaskEvent): TaskWaiting | null {
  if (event.type !== 'log' || !event.data.waiting) return null;
  return {
    taskId: event.taskId,
    reason: event.data.waiting,
    message: event.data.message.replace(/^waiting: /, ''),
  };
}
