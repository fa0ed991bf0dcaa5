import type { Namespace, Socket } from 'socket.io';
import type { Principal } from '../auth/index.js';
import type { HubContext } from '../context.js';
import type { ExtensionLink } from '../dispatch/link.js';
import { type JobCancel, type JobRun, JobRunAck } from '../protocol/extension.js';
import type { ExtensionClientToServer, ExtensionServerToClient } from '../protocol/index.js';
import { ExtensionSession } from './extension-session.js';
import { bindSocketIo } from './handler.js';

export interface ExtensionSocketData {
  principal: Principal;
}
type ExtSocket = Socket<
  ExtensionClientToServer,
  ExtensionServerToClient,
  Record<string, never>,
  ExtensionSocketData
>;
export type ExtensionNamespace = Namespace<
  ExtensionClientToServer,
  ExtensionServerToClient,
  Record<string, never>,
  ExtensionSocketData
>;

/** How long a host has to ack `job:run` before the job goes back to the queue. */
export const RUN_ACK_MS = 10_000;

class SocketIoLink implements ExtensionLink {
  readonly transport = 'socket.io' as const;
  constructor(private readonly socket: ExtSocket) {}

  async runJob(job: JobRun) {
    const raw: unknown = await this.socket.timeout(RUN_ACK_MS).emitWithAck('job:run', job);
    const ack = JobRunAck.safeParse(raw);
    if (!ack.success)
      return { accepted: false, reason: 'the extension answered job:run with a malformed ack' };
    return ack.data;
  }

  cancelJob(msg: JobCancel): void {
    this.socket.emit('job:cancel', msg);
  }

  close(reason: string): void {
    this.socket.emit('hub:error', { code: 'conflict', message: reason });
    this.socket.disconnect(true);
  }
}

/** `/extension`: Kit and other hosts register, take jobs and report output and results. */
export function attachExtension(nsp: ExtensionNamespace, ctx: HubContext): void {
  nsp.on('connection', (socket: ExtSocket) => {
    const session = new ExtensionSession(ctx, socket.data.principal, new SocketIoLink(socket));
    bindSocketIo(socket as never, ctx, session.principal, session.handlers, (body) =>
      socket.emit('hub:error', body),
    );
    socket.on('disconnect', (reason) =>
      session.closed(
        `disconnected (${reason})`,
        reason === 'client namespace disconnect' || reason === 'server namespace disconnect',
      ),
    );
  });
}
