import { isTerminal, type Task } from '../protocol/tasks.js';
import type { TaskService } from './service.js';

/** Resolves with the task once it ends, or as it stands when `ms` pass first. */
export async function waitForEnd(
  tasks: TaskService,
  taskId: string,
  ms: number,
  signal?: AbortSignal,
): Promise<Task> {
  let wake = () => {};
  const woken = new Promise<void>((resolve) => {
    wake = resolve;
  });
  // Listening before the read: an end that lands while the store answers is not missed.
  const unsubscribe = tasks.subscribeTask(taskId, (e) => {
    if (e.type === 'status' && isTerminal(e.data.status)) wake();
  });
  const timer = setTimeout(wake, ms);
  signal?.addEventListener('abort', wake, { once: true });
  try {
    const now = await tasks.require(taskId);
    if (isTerminal(now.status)) return now;
    await woken;
    return await tasks.require(taskId);
  } finally {
    clearTimeout(timer);
    unsubscribe();
    signal?.removeEventListener('abort', wake);
  }
}
