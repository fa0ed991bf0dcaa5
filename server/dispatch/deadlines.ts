import { isTerminal, type Task } from '../protocol/tasks.js';
import type { TaskService } from '../tasks/service.js';

/** setTimeout's ceiling (about 24.8 days); a longer wait is re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** When a task must have ended: its timeout counts from submission, whether it waited in the queue or ran. */
export function deadlineOf(task: Pick<Task, 'createdAt' | 'timeoutMs'>): number {
  return Date.parse(task.createdAt) + task.timeoutMs;
}

/**
 * The one owner of code tasks' deadlines. A deadline is armed when the task is queued (or found queued or
 * re-queued after a restart) and holds across waiting, dispatch, retries and reconnects; it goes away when
 * the task ends, however it ends. Routes and transports never keep timers of their own.
 */
export class Deadlines {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly off: () => void;

  constructor(
    tasks: TaskService,
    private readonly expire: (taskId: string) => void,
  ) {
    this.off = tasks.onSummary((s) => {
      if (isTerminal(s.status)) this.clear(s.id);
    });
  }

  /** Arms the task's deadline unless it already is; a deadline already past fires on the next tick. */
  arm(task: Pick<Task, 'id' | 'createdAt' | 'timeoutMs'>): void {
    if (this.timers.has(task.id)) return;
    const at = deadlineOf(task);
    const fire = () => {
      const left = at - Date.now();
      if (left > 0) {
        this.timers.set(task.id, setTimeout(fire, Math.min(left, MAX_TIMER_MS)));
        return;
      }
      this.timers.delete(task.id);
      this.expire(task.id);
    };
    this.timers.set(task.id, setTimeout(fire, Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS)));
  }

  /** Milliseconds the task has left (at least 1, so a host is never sent a zero timeout). */
  remaining(task: Pick<Task, 'createdAt' | 'timeoutMs'>): number {
    return Math.max(1, deadlineOf(task) - Date.now());
  }

  clear(taskId: string): void {
    const t = this.timers.get(taskId);
    if (t) clearTimeout(t);
    this.timers.delete(taskId);
  }

  close(): void {
    this.off();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
