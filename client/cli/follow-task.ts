import type { SwitchboardClient } from '../sdk/index.js';
import { exitForStatus } from './exit-codes.js';
import type { Output } from './output.js';

/**
 * Prints a task's events from `afterSeq` on (replay, then live) until it ends, then its outcome. Returns the
 * exit code the outcome calls for.
 */
export async function followTask(
  client: SwitchboardClient,
  out: Output,
  taskId: string,
  afterSeq = 0,
): Promise<number> {
  for await (const event of client.follow(taskId, { afterSeq })) out.event(event);
  const task = await client.get(taskId);
  out.outcome(task);
  return exitForStatus(task.status);
}
