import type { Namespace, Socket } from 'socket.io';
import { type ZodType, z } from 'zod';
import type { Action, Principal } from '../auth/index.js';
import type { HubContext } from '../context.js';
import { Empty, type ErrorBody } from '../protocol/common.js';
import type { MonitorClientToServer, MonitorServerToClient } from '../protocol/index.js';
import { Subscribe, TaskRef } from '../protocol/monitor.js';
import { TaskListQuery } from '../protocol/tasks.js';
import { ThenRun, validated } from './handler.js';

export type MonitorSocket = Socket<
  MonitorClientToServer,
  MonitorServerToClient,
  Record<string, never>,
  SocketData
>;
export type MonitorNamespace = Namespace<
  MonitorClientToServer,
  MonitorServerToClient,
  Record<string, never>,
  SocketData
>;
export interface SocketData {
  principal: Principal;
}

export const FEED_ROOM = 'feed';
export const taskRoom = (id: string) => `task:${id}`;

/** `/monitor`: browsers, the CLI and scripts submit, query, subscribe to task rooms and the status feed. */
export function attachMonitor(nsp: MonitorNamespace, ctx: HubContext): () => void {
  const { tasks, registry, dispatcher, codeTasks, auth, logger } = ctx;

  const offEvent = tasks.onEvent((event) => nsp.to(taskRoom(event.taskId)).emit('task:event', event));
  const offSummary = tasks.onSummary((summary) => nsp.to(FEED_ROOM).emit('task:summary', summary));
  const offPresence = registry.onPresence((extension, online) =>
    nsp.to(FEED_ROOM).emit('extension:presence', { extension, online }),
  );

  nsp.on('connection', (socket: MonitorSocket) => {
    const principal = socket.data.principal;
    const onError = (body: ErrorBody) => socket.emit('hub:error', body);
    const on = <S extends ZodType, R>(
      event: keyof MonitorClientToServer,
      schema: S,
      action: Action,
      fn: (p: z.output<S>) => R,
    ) => {
      const before = () => {
        auth.require(principal, action);
        auth.charge(principal);
      };
      socket.on(event, validated(event, schema, logger, onError, before, fn) as never);
    };

    on('task:submit', z.unknown(), 'submit', (body) => codeTasks.submit(body));
    on('task:get', TaskRef, 'read', ({ taskId }) => tasks.require(taskId));
    on('task:list', TaskListQuery, 'read', (q) => tasks.list(q));
    on('task:cancel', TaskRef, 'cancel', ({ taskId }) => dispatcher.cancel(taskId));
    on('task:subscribe', Subscribe, 'subscribe', ({ taskId, afterSeq }) => {
      const task = tasks.require(taskId);
      // Ack, replay and join happen in this one tick: no live event can slip between replay and join.
      return new ThenRun(task, () => {
        for (const e of tasks.replay(taskId, afterSeq)) socket.emit('task:event', e);
        socket.join(taskRoom(taskId));
      });
    });
    on('task:unsubscribe', TaskRef, 'subscribe', ({ taskId }) => {
      socket.leave(taskRoom(taskId));
      return {};
    });
    on('feed:subscribe', Empty, 'subscribe', () => {
      socket.join(FEED_ROOM);
      return { extensions: registry.list() };
    });
    on('feed:unsubscribe', Empty, 'subscribe', () => {
      socket.leave(FEED_ROOM);
      return {};
    });
    on('extensions:list', Empty, 'read', () => registry.list());
  });

  return () => {
    offEvent();
    offSummary();
    offPresence();
  };
}
