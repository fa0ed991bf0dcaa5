import type { TaskService } from '../tasks/service.js';

/** A task's stdout and stderr, joined as its output events arrive. */
export interface OutputSoFar {
  stdout: string;
  stderr: string;
  stop(): void;
}

/**
 * Follows a task's output while it runs, so `/execute` answers from what it collected instead of reading
 * every event of the task back from the store. Call it right after submitting, in the same tick: output
 * only starts once a host has the job, which is never before the submission returns.
 */
export function collectOutput(tasks: TaskService, taskId: string): OutputSoFar {
  const parts = { stdout: [] as string[], stderr: [] as string[] };
  const stop = tasks.subscribeTask(taskId, (e) => {
    if (e.type === 'output') parts[e.data.stream].push(e.data.text);
  });
  return {
    get stdout() {
      return parts.stdout.join('');
    },
    get stderr() {
      return parts.stderr.join('');
    },
    stop,
  };
}
