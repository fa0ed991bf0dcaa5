import type { Task, TaskEvent } from '../../server/protocol/index.js';
import { type FlowNodeInfo, FlowProgress, type FlowStep, flowNodesOf } from './flow-progress.js';
import type { FollowOptions, TaskStream } from './follow.js';

/** One event of a followed FlowGram task, with the node step it made (node events only). */
export interface FlowUpdate {
  event: TaskEvent;
  step: FlowStep | undefined;
  progress: FlowProgress;
}

/** Where a flowgram task keeps its schema in its stored input (the FlowGram API's `schema` field). */
export function flowNodesOfTask(task: Pick<Task, 'input'>): FlowNodeInfo[] {
  return flowNodesOf(task.input['schema']);
}

/**
 * Follows a flowgram task (replay, then live) and folds its node events into a progress list as they
 * come. The list starts with every schema node waiting when the task's input carries the schema.
 */
export async function* followFlow(
  task: Pick<Task, 'input'>,
  follow: (opts: FollowOptions) => TaskStream,
  opts: FollowOptions = {},
): AsyncGenerator<FlowUpdate> {
  const progress = new FlowProgress(flowNodesOfTask(task));
  for await (const event of follow(opts)) {
    yield { event, step: progress.apply(event), progress };
  }
}
