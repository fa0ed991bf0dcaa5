import type { Namespace, Socket } from 'socket.io';
import type { ZodType, z } from 'zod';
import type { Principal } from '../auth/index.js';
import type { HubContext } from '../context.js';
import type { ExtensionLink } from '../dispatch/link.js';
import type { ExtensionRecord, RegisterParsed } from '../dispatch/registry.js';
import { HubError } from '../errors.js';
import type { ErrorBody } from '../protocol/common.js';
import {
  Heartbeat,
  type JobCancel,
  JobOutput,
  JobResult,
  type JobRun,
  JobRunAck,
  JobStarted,
  Register,
} from '../protocol/extension.js';
import type { ExtensionClientToServer, ExtensionServerToClient } from '../protocol/index.js';
import { validated } from './handler.js';

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

const RUN_ACK_MS = 10_000;

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

/**
 * Takes a host's registration: a host already online under the same id is replaced, keeping the jobs the new
 * connection says it still runs; the rest of the old connection's jobs count as lost.
 */
export function registerHost(ctx: HubContext, reg: RegisterParsed, link: ExtensionLink): ExtensionRecord {
  const { record, replaced } = ctx.registry.register(reg, link);
  if (replaced) {
    for (const id of reg.running) replaced.running.delete(id);
    ctx.dispatcher.hostLost(replaced, 'was replaced by a new connection');
    replaced.link.close('another connection registered this extension id');
  }
  ctx.dispatcher.hostOnline(record, reg.running);
  ctx.logger.info(
    { extensionId: record.info.id, transport: link.transport, labels: record.info.labels },
    'extension online',
  );
  return record;
}

/** Drops a host; its jobs are requeued or failed unless a newer connection replaced it already. */
export function unregisterHost(ctx: HubContext, record: ExtensionRecord, why: string): void {
  if (!ctx.registry.remove(record)) return;
  ctx.logger.info({ extensionId: record.info.id, why }, 'extension offline');
  ctx.dispatcher.hostLost(record, why);
}

/** `/extension`: Kit and other hosts register, take jobs and report output and results. */
export function attachExtension(nsp: ExtensionNamespace, ctx: HubContext): void {
  const { registry, dispatcher, auth, logger, config } = ctx;

  nsp.on('connection', (socket: ExtSocket) => {
    const principal = socket.data.principal;
    let record: ExtensionRecord | null = null;
    const onError = (body: ErrorBody) => socket.emit('hub:error', body);
    const current = (): ExtensionRecord => {
      if (!record) throw new HubError('conflict', 'register first');
      return record;
    };
    const on = <S extends ZodType, R>(
      event: keyof ExtensionClientToServer,
      schema: S,
      fn: (p: z.output<S>) => R,
      charge = false,
    ) => {
      const before = () => {
        auth.require(principal, event === 'register' ? 'register' : 'run_jobs');
        // Job reports answer the hub's own requests, so only registration counts against the rate limit.
        if (charge) auth.charge(principal);
      };
      socket.on(event, validated(event, schema, logger, onError, before, fn) as never);
    };

    on(
      'register',
      Register,
      (reg) => {
        if (record) throw new HubError('conflict', `already registered as ${record.info.id}`);
        record = registerHost(ctx, reg, new SocketIoLink(socket));
        return { extensionId: record.info.id, heartbeatMs: config.heartbeatMs };
      },
      true,
    );
    on('heartbeat', Heartbeat, (hb) => {
      registry.touch(current(), { stagePath: hb.stagePath });
      return {};
    });
    on('job:started', JobStarted, ({ taskId }) => {
      dispatcher.jobStarted(current(), taskId);
      return {};
    });
    on('job:output', JobOutput, ({ taskId, stream, text }) => {
      dispatcher.jobOutput(current(), taskId, stream, text);
      return {};
    });
    on('job:result', JobResult, (res) => {
      dispatcher.jobResult(current(), res);
      return {};
    });
    socket.on('disconnect', (reason) => {
      if (record) unregisterHost(ctx, record, `disconnected (${reason})`);
    });
  });
}
