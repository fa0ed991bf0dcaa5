import type { ServerResponse } from 'node:http';
import { isTerminal } from '../protocol/tasks.js';
import type { TaskService } from '../tasks/service.js';

/** A task's stdout and stderr, joined as its output events arrived. */
export interface OutputSoFar {
  stdout: string;
  stderr: string;
}

/**
 * Follows a task `/execute` just submitted until it ends, `ms` pass, or the client hangs up, keeping its output
 * as it arrives so the reply needs no read of the task's events. One listener on the task and one on the
 * response: the hot path of `/execute`. Call it in the tick of the submission: output only starts once a
 * host has the job, which is never before the submission returns. The end is heard after its commit (status
 * events are broadcast once on disk).
 */
export function followExecution(
  tasks: TaskService,
  taskId: string,
  ms: number,
  response: ServerResponse,
): Promise<OutputSoFar> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return new Promise((resolve) => {
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      stop();
      clearTimeout(timer);
      response.off('close', end);
      resolve({ stdout: stdout.join(''), stderr: stderr.join('') });
    };
    const stop = tasks.subscribeTask(taskId, (e) => {
      if (e.type === 'output') (e.data.stream === 'stdout' ? stdout : stderr).push(e.data.text);
      else if (e.type === 'status' && isTerminal(e.data.status)) end();
    });
    const timer = setTimeout(end, ms);
    // A client that hangs up is answered no more: stop following (the task itself runs on).
    response.once('close', end);
    const now = tasks.live(taskId);
    if (now && isTerminal(now.status)) end();
  });
}
