import { z } from 'zod';
import type { HubContext } from '../context.js';
import { Empty } from '../protocol/common.js';
import { Subscribe, TaskRef } from '../protocol/monitor.js';
import { type TaskEvent, TaskListQuery } from '../protocol/tasks.js';
import { StartWorkflow } from '../protocol/workflows.js';
import { taskGraph } from '../workflows/task-graph.js';
import { type HandlerTable, handler, ThenRun } from './handler.js';

/** What a monitor session needs from its transport: send one event, and start/stop live delivery. */
export interface MonitorPeer {
  sendEvent(event: TaskEvent): void;
  /** Runs `fn` once the peer's send queue has room again (never, if it is dropped meanwhile). */
  whenDrained(fn: () => void): void;
  watchTask(taskId: string): void;
  unwatchTask(taskId: string): void;
  joinFeed(): void;
  leaveFeed(): void;
}

/** Events per replay page: a long backlog goes out a page at a time, as the reader takes it. */
export const REPLAY_PAGE = 500;

/**
 * Replays a task's events after `afterSeq` in pages, each once the reader has drained the last, so a resuming
 * consumer of a 100k-event task costs the hub a page, not the backlog. The last page and the watch happen in
 * one tick: no live event can slip between replay and watch, and none is sent twice.
 */
function replayThenWatch(ctx: HubContext, peer: MonitorPeer, taskId: string, afterSeq: number): void {
  // A page fits well inside the consumer's send budget, in packets and in bytes.
  const { subscriberQueueLimit: packets, subscriberQueueBytes: bytes } = ctx.config;
  const { events, more } = ctx.tasks.replayPage(
    taskId,
    afterSeq,
    Math.max(1, Math.min(REPLAY_PAGE, Math.floor(packets / 2) - 1)),
    bytes / 4,
  );
  for (const e of events) peer.sendEvent(e);
  if (!more) {
    peer.watchTask(taskId);
    return;
  }
  const next = events.at(-1)?.seq ?? afterSeq;
  peer.whenDrained(() => replayThenWatch(ctx, peer, taskId, next));
}

/** The `/monitor` requests, the same over Socket.IO and raw ws. */
export function monitorHandlers(ctx: HubContext, peer: MonitorPeer): HandlerTable {
  const { tasks, registry, dispatcher, codeTasks, workflows } = ctx;
  return {
    // CodeTasks validates the submission itself: HTTP and sockets share that one path.
    'task:submit': handler(z.unknown(), 'submit', (body) => codeTasks.submit(body)),
    'task:get': handler(TaskRef, 'read', ({ taskId }) => tasks.require(taskId)),
    'task:list': handler(TaskListQuery, 'read', (q) => tasks.list(q)),
    'task:cancel': handler(TaskRef, 'cancel', ({ taskId }) => dispatcher.cancel(taskId)),
    'task:subscribe': handler(Subscribe, 'subscribe', ({ taskId, afterSeq }) => {
      const task = tasks.require(taskId);
      return new ThenRun(task, () => replayThenWatch(ctx, peer, taskId, afterSeq));
    }),
    'task:unsubscribe': handler(TaskRef, 'subscribe', ({ taskId }) => {
      peer.unwatchTask(taskId);
      return {};
    }),
    'feed:subscribe': handler(Empty, 'subscribe', () => {
      peer.joinFeed();
      return { extensions: registry.list() };
    }),
    'feed:unsubscribe': handler(Empty, 'subscribe', () => {
      peer.leaveFeed();
      return {};
    }),
    'extensions:list': handler(Empty, 'read', () => registry.list()),
    'workflows:list': handler(Empty, 'read', () => workflows.registry.list()),
    'task:graph': handler(TaskRef, 'read', ({ taskId }) =>
      taskGraph(tasks.require(taskId), workflows.registry),
    ),
    'workflow:start': handler(StartWorkflow, 'submit', ({ workflow, ...request }) =>
      workflows.start(workflow, request),
    ),
  };
}
