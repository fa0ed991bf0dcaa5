import type { Namespace, Socket } from 'socket.io';
import type { Principal } from '../auth/index.js';
import type { HubContext } from '../context.js';
import { HubError } from '../errors.js';
import type { MonitorClientToServer, MonitorServerToClient } from '../protocol/index.js';
import { bindSocketIo } from './handler.js';
import { hostLogHandlers } from './host-log-handlers.js';
import { type MonitorPeer, monitorHandlers } from './monitor-session.js';
import { SocketSendBudget } from './send-budget.js';

export interface SocketData {
  principal: Principal;
}
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

export const FEED_ROOM = 'feed';
export const taskRoom = (id: string) => `task:${id}`;

/** `/monitor` over Socket.IO: task rooms and the feed are Socket.IO rooms, broadcast once per event. */
export function attachMonitor(nsp: MonitorNamespace, ctx: HubContext): () => void {
  const { tasks, registry } = ctx;
  // Socket.IO encodes a broadcast before it looks for members, and most task rooms have none: with the
  // in-memory adapter (the only one that knows every member), look first. Other adapters always broadcast.
  const rooms = nsp.adapter.rooms;
  const local = nsp.adapter.constructor.name === 'Adapter';
  const anyone = (room: string) => !local || rooms.has(room);
  const offEvent = tasks.onEvent((event) => {
    const room = taskRoom(event.taskId);
    if (anyone(room)) nsp.to(room).emit('task:event', event);
    if (event.type === 'log' && event.data.waiting && anyone(FEED_ROOM)) {
      const note = {
        taskId: event.taskId,
        reason: event.data.waiting,
        message: event.data.message.replace(/^waiting: /, ''),
      };
      nsp.to(FEED_ROOM).emit('task:waiting', note);
    }
  });
  const offSummary = tasks.onSummary((summary) => {
    if (anyone(FEED_ROOM)) nsp.to(FEED_ROOM).emit('task:summary', summary);
  });
  const offPresence = registry.onPresence((extension, online) => {
    if (anyone(FEED_ROOM)) nsp.to(FEED_ROOM).emit('extension:presence', { extension, online });
  });

  const limits = { packets: ctx.config.subscriberQueueLimit, bytes: ctx.config.subscriberQueueBytes };
  nsp.on('connection', (socket: MonitorSocket) => {
    const budget = new SocketSendBudget(socket, limits, (why) => {
      ctx.logger.warn({ socketId: socket.id, why }, 'dropping slow consumer');
      const err = new HubError('rate_limited', `${why}: reading too slowly; reconnect and resume by seq`);
      socket.emit('hub:error', err.toBody());
      socket.disconnect(true);
    });
    const peer: MonitorPeer = {
      whenDrained: (fn) => budget.whenDrained(fn),
      sendEvent: (e) => socket.emit('task:event', e),
      watchTask: (id) => void socket.join(taskRoom(id)),
      unwatchTask: (id) => void socket.leave(taskRoom(id)),
      joinFeed: () => void socket.join(FEED_ROOM),
      leaveFeed: () => void socket.leave(FEED_ROOM),
    };
    const principal = socket.data.principal;
    const logs = hostLogHandlers(ctx, (line) => socket.emit('extension:log', line));
    socket.on('disconnect', logs.close);
    const table = { ...monitorHandlers(ctx, peer), ...logs.handlers };
    bindSocketIo(socket as never, ctx, principal, table, (body) => socket.emit('hub:error', body));
  });

  return () => {
    offEvent();
    offSummary();
    offPresence();
  };
}
