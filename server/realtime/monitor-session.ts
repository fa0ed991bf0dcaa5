import { z } from 'zod';
import type { HubContext } from '../context.js';
import { Empty } from '../protocol/common.js';
import { Subscribe, TaskRef } from '../protocol/monitor.js';
import { type TaskEvent, TaskListQuery } from '../protocol/tasks.js';
import { StartWorkflow } from '../protocol/workflows.js';
import { type HandlerTable, handler, ThenRun } from './handler.js';

/** What a monitor session needs from its transport: send one event, and start/stop live delivery. */
export interface MonitorPeer {
  sendEvent(event: TaskEvent): void;
  watchTask(taskId: string): void;
  unwatchTask(taskId: string): void;
  joinFeed(): void;
  leaveFeed(): void;
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
      // Ack, replay and watch happen in this one tick: no live event can slip between replay and watch.
      return new ThenRun(task, () => {
        for (const e of tasks.replay(taskId, afterSeq)) peer.sendEvent(e);
        peer.watchTask(taskId);
      });
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
    'workflow:start': handler(StartWorkflow, 'submit', ({ workflow, ...request }) =>
      workflows.start(workflow, request),
    ),
  };
}
