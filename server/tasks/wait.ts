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
  // In a cluster another process may run it (and write its end): once this one no longer holds it, the
  // store is looked at too. A task this process holds is always found by `live`, so this costs nothing else.
  const look = setInterval(() => {
    if (tasks.live(taskId)) return;
    tasks.get(taskId).then(
      (t) => {
        if (t && isTerminal(t.status)) wake();
      },
      () => {},
    );
  }, 1_000);
  look.unref();
  signal?.addEventListener('abort', wake, { once: true });
  try {
    const now = await tasks.require(taskId);
    if (isTerminal(now.status)) return now;
    await woken;
    return await tasks.require(taskId);
  } finally {
    clearTimeout(timer);
    clearInterval(look);
    unsubscribe();
    signal?.removeEventListener('abort', wake);
  }
}
