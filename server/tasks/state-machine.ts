import { HubError } from '../errors.js';
import { isTerminal, type TaskStatus } from '../protocol/tasks.js';

const NEXT: Record<TaskStatus, readonly TaskStatus[]> = {
  queued: ['dispatched', 'running', 'cancelled', 'failed', 'timed_out'],
  dispatched: ['running', 'queued', 'succeeded', 'failed', 'cancelled', 'timed_out'],
  running: ['queued', 'succeeded', 'failed', 'cancelled', 'timed_out'],
  succeeded: [],
  failed: [],
  cancelled: [],
  timed_out: [],
};

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return NEXT[from].includes(to);
}

export function assertTransition(taskId: string, from: TaskStatus, to: TaskStatus): void {
  if (canTransition(from, to)) return;
  if (isTerminal(from)) throw new HubError('task_finished', `task ${taskId} already ended ${from}`);
  throw new HubError('conflict', `task ${taskId} cannot go from ${from} to ${to}`);
}
