import type { HubContext } from '../context.js';
import type { JobCancel, JobRun, JobRunAck } from '../protocol/extension.js';
import { registerHost, unregisterHost } from './hosts.js';
import type { ExtensionLink } from './link.js';
import type { ExtensionRecord, RegisterParsed } from './registry.js';

/** How long an offered job waits for the host's next poll before it goes back to the queue. */
const OFFER_MS = 30_000;

interface Offer {
  job: JobRun;
  resolve: (ack: JobRunAck) => void;
  timer: NodeJS.Timeout;
}

/** A host that polls over HTTP: jobs wait in a mailbox for its next `GET /next_code`, cancels for its next report. */
class PollingLink implements ExtensionLink {
  readonly transport = 'polling' as const;
  readonly offers: Offer[] = [];
  readonly cancels = new Map<string, JobCancel['reason']>();
  waiter: ((job: JobRun) => void) | null = null;
  closed = false;

  runJob(job: JobRun): Promise<JobRunAck> {
    return new Promise((resolve) => {
      if (this.waiter) {
        const take = this.waiter;
        this.waiter = null;
        take(job);
        resolve({ accepted: true });
        return;
      }
      const timer = setTimeout(() => {
        const i = this.offers.findIndex((o) => o.job.taskId === job.taskId);
        if (i >= 0) this.offers.splice(i, 1);
        resolve({ accepted: false, reason: 'the polling host did not poll in time' });
      }, OFFER_MS);
      this.offers.push({ job, resolve, timer });
    });
  }

  cancelJob(msg: JobCancel): void {
    const i = this.offers.findIndex((o) => o.job.taskId === msg.taskId);
    if (i >= 0) {
      const [offer] = this.offers.splice(i, 1);
      if (offer) {
        clearTimeout(offer.timer);
        offer.resolve({ accepted: false, reason: 'stopped before the host took it' });
      }
      return;
    }
    this.cancels.set(msg.taskId, msg.reason);
  }

  close(): void {
    this.closed = true;
    for (const o of this.offers.splice(0)) {
      clearTimeout(o.timer);
      o.resolve({ accepted: false, reason: 'the polling host went away' });
    }
    this.waiter = null;
  }

  /** Hands the host its next job: one waiting in the mailbox now, or the next offered within `waitMs`. */
  next(waitMs: number, signal: AbortSignal): Promise<JobRun | null> {
    const offer = this.offers.shift();
    if (offer) {
      clearTimeout(offer.timer);
      offer.resolve({ accepted: true });
      return Promise.resolve(offer.job);
    }
    return new Promise((resolve) => {
      const done = (job: JobRun | null) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', abort);
        if (this.waiter === take) this.waiter = null;
        resolve(job);
      };
      const take = (job: JobRun) => done(job);
      const abort = () => done(null);
      const timer = setTimeout(() => done(null), waitMs);
      signal.addEventListener('abort', abort, { once: true });
      this.waiter = take;
    });
  }
}

interface PollingHost {
  record: ExtensionRecord;
  link: PollingLink;
  lastSeen: number;
}

/**
 * The HTTP polling flow of the old exec platform: a host is online while it keeps polling or reporting, and
 * goes offline (its jobs re-queue or fail like any lost host) after `offlineAfterMs` of silence.
 */
export class PollingHosts {
  private readonly hosts = new Map<string, PollingHost>();
  private readonly sweep: NodeJS.Timeout;
  readonly offlineAfterMs: number;

  constructor(private readonly ctx: Omit<HubContext, 'polling'>) {
    this.offlineAfterMs = Math.max(3 * ctx.config.heartbeatMs, 1_000);
    this.sweep = setInterval(() => this.expire(), Math.min(1_000, this.offlineAfterMs / 4));
    this.sweep.unref();
  }

  /**
   * Finds or registers the host and marks it seen. Every poll proves the id with the host secret (the first
   * one gets it issued, returned as `issuedSecret`), so a poll naming another host's id is refused.
   */
  touch(reg: RegisterParsed): { host: PollingHost; issuedSecret: string | undefined } {
    const id = reg.id;
    const known = id ? this.hosts.get(id) : undefined;
    if (known && !known.link.closed && this.ctx.registry.isCurrent(known.record)) {
      this.ctx.hostSecrets.verify(known.record.info.id, reg.secret);
      known.lastSeen = Date.now();
      this.ctx.registry.touch(known.record);
      return { host: known, issuedSecret: undefined };
    }
    const link = new PollingLink();
    const { record, issuedSecret } = registerHost(this.ctx, reg, link);
    const host = { record, link, lastSeen: Date.now() };
    this.hosts.set(record.info.id, host);
    return { host, issuedSecret };
  }

  byId(id: string): PollingHost | undefined {
    const h = this.hosts.get(id);
    if (h) h.lastSeen = Date.now();
    return h;
  }

  next(host: PollingHost, waitMs: number, signal: AbortSignal): Promise<JobRun | null> {
    return host.link.next(waitMs, signal).finally(() => {
      host.lastSeen = Date.now();
    });
  }

  /** A stop the hub asked for since the host last reported on this task, taken once. */
  takeCancel(host: PollingHost, taskId: string): JobCancel['reason'] | null {
    const reason = host.link.cancels.get(taskId) ?? null;
    host.link.cancels.delete(taskId);
    return reason;
  }

  close(): void {
    clearInterval(this.sweep);
  }

  private expire(): void {
    const now = Date.now();
    for (const [id, host] of this.hosts) {
      const polling = host.link.waiter !== null;
      if (!polling && now - host.lastSeen > this.offlineAfterMs) {
        this.hosts.delete(id);
        host.link.close();
        unregisterHost(
          this.ctx,
          host.record,
          `stopped polling (silent for ${Math.round((now - host.lastSeen) / 1000)}s)`,
        );
      }
    }
  }
}
