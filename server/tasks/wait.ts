import { isTerminal, type Task } from '../protocol/tasks.js';
import type { TaskService } from './service.js';

/** Resolves with the task once it ends, or as it stands when `ms` pass first. */
export function waitForEnd(
  tasks: TaskService,
  taskId: string,
  ms: number,
  signal?: AbortSignal,
): Promise<Task> {
  const now = tasks.require(taskId);
  if (isTerminal(now.status)) return Promise.resolve(now);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      signal?.removeEventListener('abort', done);
      resolve(tasks.require(taskId));
    };
    const timer = setTimeout(done, ms);
    const unsubscribe = tasks.subscribeTask(taskId, (e) => {
      if (e.type === 'status' && isTerminal(e.data.status)) done();
    });
    signal?.addEventListener('abort', done, { once: true });
  });
}
