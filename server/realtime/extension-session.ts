import type { Principal } from '../auth/index.js';
import type { HubContext } from '../context.js';
import { receiveHostLog } from '../dispatch/host-logs.js';
import { registerHost, unregisterHost } from '../dispatch/hosts.js';
import type { ExtensionLink } from '../dispatch/link.js';
import type { ExtensionRecord } from '../dispatch/registry.js';
import { HubError } from '../errors.js';
import {
  Heartbeat,
  HostLog,
  HostPaused,
  HUB_FEATURES,
  JobOutput,
  JobResult,
  JobStarted,
  JobStuck,
  Register,
} from '../protocol/extension.js';
import { type HandlerTable, handler } from './handler.js';

/** One host connection, whatever the transport: registration state and the handlers of its messages. */
export class ExtensionSession {
  record: ExtensionRecord | null = null;
  readonly handlers: HandlerTable;

  constructor(
    private readonly ctx: HubContext,
    readonly principal: Principal,
    private readonly link: ExtensionLink,
  ) {
    const { registry, dispatcher, config } = ctx;
    // Job reports answer the hub's own requests, so only registration counts against the rate limit.
    this.handlers = {
      register: handler(Register, 'register', (reg) => {
        if (this.record) throw new HubError('conflict', `already registered as ${this.record.info.id}`);
        const { record, issuedSecret } = registerHost(ctx, reg, this.link);
        this.record = record;
        return {
          extensionId: record.info.id,
          heartbeatMs: config.heartbeatMs,
          features: [...HUB_FEATURES],
          ...(issuedSecret ? { hostSecret: issuedSecret } : {}),
        };
      }),
      heartbeat: handler(
        Heartbeat,
        'run_jobs',
        (hb) => {
          registry.touch(this.current(), { stagePath: hb.stagePath });
          return {};
        },
        false,
      ),
      'job:started': handler(
        JobStarted,
        'run_jobs',
        ({ taskId, attempt }) => dispatcher.jobStarted(this.current(), taskId, attempt),
        false,
      ),
      'job:output': handler(
        JobOutput,
        'run_jobs',
        ({ taskId, stream, text, attempt }) =>
          dispatcher.jobOutput(this.current(), taskId, stream, text, attempt),
        false,
      ),
      'job:result': handler(JobResult, 'run_jobs', (res) => dispatcher.jobResult(this.current(), res), false),
      'job:stuck': handler(
        JobStuck,
        'run_jobs',
        ({ taskId, attempt }) => dispatcher.jobStuck(this.current(), taskId, attempt),
        false,
      ),
      'host:paused': handler(
        HostPaused,
        'run_jobs',
        ({ paused }) => dispatcher.hostPaused(this.current(), paused),
        false,
      ),
      'host:log': handler(
        HostLog,
        'run_jobs',
        (msg) => receiveHostLog(registry.logs, ctx.tasks, this.current(), msg),
        false,
      ),
    };
  }

  /**
   * The connection is gone. A host that said goodbye loses its jobs at once; one whose connection dropped
   * keeps them for the reconnect grace period.
   */
  closed(why: string, deliberate: boolean): void {
    if (this.record)
      unregisterHost(this.ctx, this.record, why, deliberate ? 0 : this.ctx.config.reconnectGraceMs);
  }

  private current(): ExtensionRecord {
    if (!this.record) throw new HubError('conflict', 'register first');
    return this.record;
  }
}
