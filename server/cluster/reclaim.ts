import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { ExtensionRecord } from '../dispatch/registry.js';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { isTerminal, type TaskStatus } from '../protocol/tasks.js';
import type { TaskService } from '../tasks/service.js';
import type { ClusterBus } from './bus.js';

const ASK_MS = 3_000;
const POLL_MS = 250;

interface Pending {
  record: ExtensionRecord;
  /** The host's reports that came while the job was being taken over, in order. */
  reports: Array<() => void>;
}

/**
 * A host that reconnects to this process still running a job another process dispatched (that process died,
 * or the host's connection moved): this process takes the job over and the host carries on. A live owner is
 * asked to let go; a dead one's job is taken once its lease has run out (P rc:<task> tells the process
 * adopting the dead one's tasks to hand this job here rather than re-queue it). The host's reports wait
 * meanwhile and are applied after, so its output continues the job's seq. When the job cannot be taken over
 * (it was re-queued or ended), the host is told to stop it, as on a restart.
 */
export class Reclaims {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly bus: ClusterBus,
    private readonly tasks: TaskService,
    private readonly dispatcher: Dispatcher,
    private readonly leaseMs: number,
    private readonly logger: Logger,
  ) {
    bus.on((msg) => {
      if (msg.k === 'handover') void this.answer(msg.n, msg.rid, msg.taskId, msg.ext);
    });
  }

  defer(record: ExtensionRecord, taskId: string, again: () => void): boolean {
    const p = this.pending.get(taskId);
    if (!p || p.record !== record) return false;
    p.reports.push(again);
    return true;
  }

  reclaim(record: ExtensionRecord, taskId: string): void {
    if (this.pending.has(taskId)) return;
    const p: Pending = { record, reports: [] };
    this.pending.set(taskId, p);
    this.run(record, taskId)
      .catch((err: unknown) => {
        this.logger.debug({ err, taskId }, 'cluster: job take-over failed');
        return 'failed' as const;
      })
      .then((outcome) => {
        this.pending.delete(taskId);
        void this.bus.redis.del(this.bus.key('rc', taskId)).catch(() => 0);
        if (outcome === 'attached') {
          this.logger.info(
            { taskId, extensionId: record.info.id },
            'cluster: job taken over; its host carries on',
          );
          for (const fn of p.reports) {
            try {
              fn();
            } catch (err) {
              this.logger.debug({ err, taskId }, 'cluster: a held report was refused');
            }
          }
        } else {
          record.link.cancelJob({ taskId, reason: outcome === 'timed_out' ? 'timed_out' : 'cancelled' });
        }
      });
  }

  /** Asked by another process whose host now runs this job: let it go there. */
  private async answer(from: string, rid: string, taskId: string, ext: string): Promise<void> {
    if (!this.dispatcher.letGo(taskId, ext))
      return this.bus.reply(from, rid, {
        ok: false,
        error: { code: 'conflict', message: `job ${taskId} is not out on ${ext} here` },
      });
    try {
      await this.tasks.log.flush();
      await this.bus.scripts.sbHandover(this.bus.prefix, this.bus.nodeId, from, taskId);
      this.bus.reply(from, rid, { ok: true, value: null });
    } catch (err) {
      this.bus.reply(from, rid, { ok: false, error: { code: 'internal', message: String(err) } });
    }
  }

  private async run(record: ExtensionRecord, taskId: string): Promise<'attached' | 'failed' | 'timed_out'> {
    const { bus } = this;
    const me = bus.nodeId;
    const ext = record.info.id;
    await bus.redis.set(bus.key('rc', taskId), me, 'PX', this.leaseMs * 3);
    const until = Date.now() + this.leaseMs * 2 + 5_000;
    for (;;) {
      const [status, owner, on] = await bus.redis.hmget(bus.key('t', taskId), 's', 'o', 'x');
      if (!status || status === 'queued' || on !== ext) return 'failed';
      if (isTerminal(status as TaskStatus)) return status === 'timed_out' ? 'timed_out' : 'failed';
      if (owner === me) {
        const task = await this.tasks.store.getTask(taskId);
        if (!task || task.extensionId !== ext || !['dispatched', 'running'].includes(task.status))
          return 'failed';
        this.dispatcher.attachRunning(record, task);
        return 'attached';
      }
      if (!owner) return 'failed';
      if (await bus.redis.exists(bus.key('n', owner))) {
        try {
          await bus.request(owner, { k: 'handover', taskId, ext }, ASK_MS);
          continue; // it handed the job over: owner is this process now
        } catch (err) {
          if (err instanceof HubError && err.code !== 'store_unavailable') return 'failed';
        }
      } else {
        // Its owner died and nobody has adopted it yet: take the job straight from it.
        await bus.scripts.sbHandover(bus.prefix, owner, me, taskId);
        continue;
      }
      if (Date.now() > until) return 'failed';
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}
