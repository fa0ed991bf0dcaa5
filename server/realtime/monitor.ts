import type { Namespace, Socket } from 'socket.io';
import type { Principal } from '../auth/index.js';
import type { HubContext } from '../context.js';
import type { MonitorClientToServer, MonitorServerToClient } from '../protocol/index.js';
import { bindSocketIo } from './handler.js';
import { hostLogHandlers } from './host-log-handlers.js';
import { type MonitorPeer, monitorHandlers } from './monitor-session.js';

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
  const offEvent = tasks.onEvent((event) => nsp.to(taskRoom(event.taskId)).emit('task:event', event));
  const offSummary = tasks.onSummary((summary) => nsp.to(FEED_ROOM).emit('task:summary', summary));
  const offPresence = registry.onPresence((extension, online) =>
    nsp.to(FEED_ROOM).emit('extension:presence', { extension, online }),
  );

  nsp.on('connection', (socket: MonitorSocket) => {
    const peer: MonitorPeer = {
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
