import type { Namespace, Socket } from 'socket.io';
import type { Principal } from '../auth/index.js';
import type { HubContext } from '../context.js';
import { HubError } from '../errors.js';
import type { ErrorBody } from '../protocol/common.js';
import type { ExtensionInfo, HostLogEntry } from '../protocol/extension.js';
import type { MonitorClientToServer, MonitorServerToClient } from '../protocol/index.js';
import type { TaskEvent } from '../protocol/tasks.js';
import { bindSocketIo } from './handler.js';
import { hostLogHandlers, type LogPeer } from './host-log-handlers.js';
import { type MonitorPeer, monitorHandlers } from './monitor-session.js';
import { SocketSendBudget } from './send-budget.js';
import { waitingNote } from './waiting-note.js';

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

/** A `/monitor` Socket.IO connection as the monitor and host-log handlers see it (methods, no closures). */
class SocketMonitorPeer implements MonitorPeer, LogPeer {
  logFollows?: Map<string, () => void>;
  constructor(
    readonly socket: MonitorSocket,
    private readonly budget: SocketSendBudget,
  ) {}
  sendEvent(e: TaskEvent): void {
    this.socket.emit('task:event', e);
  }
  whenDrained(fn: () => void): void {
    this.budget.whenDrained(fn);
  }
  watchTask(id: string): void {
    void this.socket.join(taskRoom(id));
  }
  unwatchTask(id: string): void {
    void this.socket.leave(taskRoom(id));
  }
  joinFeed(): void {
    void this.socket.join(FEED_ROOM);
  }
  leaveFeed(): void {
    void this.socket.leave(FEED_ROOM);
  }
  sendLog(line: HostLogEntry): void {
    this.socket.emit('extension:log', line);
  }
  onceClosed(fn: () => void): void {
    if (this.socket.disconnected) fn();
    else this.socket.once('disconnect', fn);
  }
}

export const FEED_ROOM = 'feed';
export const taskRoom = (id: string) => `task:${id}`;

/** `/monitor` over Socket.IO: task rooms and the feed are Socket.IO rooms, broadcast once per event. */
export function attachMonitor(nsp: MonitorNamespace, ctx: HubContext): () => void {
  const { tasks, registry } = ctx;
  // Local emits: each process tells its own sockets, of its own tasks and (cluster mode) of the others' from
  // the change stream. Socket.IO encodes a broadcast before it looks for members, and most task rooms have
  // none: look first (`rooms` holds this process's members whichever the adapter).
  const rooms = nsp.adapter.rooms;
  const local = nsp.local;
  const offEvent = tasks.onEvent(
    (event) => {
      const room = taskRoom(event.taskId);
      if (rooms.has(room)) local.to(room).emit('task:event', event);
      const note = waitingNote(event);
      if (note && rooms.has(FEED_ROOM)) local.to(FEED_ROOM).emit('task:waiting', note);
    },
    { remote: true },
  );
  const offSummary = tasks.onSummary(
    (summary) => {
      if (rooms.has(FEED_ROOM)) local.to(FEED_ROOM).emit('task:summary', summary);
    },
    { remote: true },
  );
  const presence = (extension: ExtensionInfo, online: boolean) => {
    if (rooms.has(FEED_ROOM)) local.to(FEED_ROOM).emit('extension:presence', { extension, online });
  };
  const offPresence = registry.onPresence(presence);
  const offRemotePresence = ctx.changeFeed?.onRemotePresence(presence);

  const limits = { packets: ctx.config.subscriberQueueLimit, bytes: ctx.config.subscriberQueueBytes };
  // One handler table and one error path for every connection: an idle subscriber holds only its peer.
  const table = { ...monitorHandlers(ctx), ...hostLogHandlers(ctx) };
  const onError = (body: ErrorBody, peer: unknown) =>
    (peer as SocketMonitorPeer).socket.emit('hub:error', body);
  const drop = (socket: MonitorSocket, why: string) => {
    ctx.logger.warn({ socketId: socket.id, why }, 'dropping slow consumer');
    const err = new HubError('rate_limited', `${why}: reading too slowly; reconnect and resume by seq`);
    socket.emit('hub:error', err.toBody());
    socket.disconnect(true);
  };
  nsp.on('connection', (socket: MonitorSocket) => {
    const peer = new SocketMonitorPeer(socket, new SocketSendBudget(socket, limits, drop));
    bindSocketIo(socket as never, ctx, socket.data.principal, table, onError, peer);
  });

  return () => {
    offEvent();
    offSummary();
    offPresence();
    offRemotePresence?.();
  };
}
