import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { ExtensionRegistry } from '../dispatch/registry.js';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { isTerminal, type Task, type TaskStatus } from '../protocol/tasks.js';
import type { TaskService } from '../tasks/service.js';
import { type ClusterBus, Moved } from './bus.js';

/** Queue entries a claim looks at (oldest first). */
const SCAN = 1_000;
/** How long a process asked to cancel a task it holds may take to answer. */
const ASK_MS = 3_000;

interface Entry {
  t: Task['target'];
  w?: string;
}

/**
 * The shared code-job queue (P cq): a queued task no host of its process can take, while a host of another
 * process can, is handed over here; a process with a free matching host claims it (atomically, in Lua),
 * reads it from the store and dispatches it, continuing its seq. A task in the queue has no owner, so its
 * deadline and a cancel are settled by whoever claims it first.
 */
export class SharedQueue {
  /** Offers under way (their events being stored first). */
  private readonly offering = new Map<string, Promise<void>>();
  private readonly deadlineTimers = new Map<string, NodeJS.Timeout>();
  private scanning = false;
  private again = false;
  /** Whether the shared queue may hold work (a claim that came back short says no). */
  private maybeWork = true;
  private closed = false;

  constructor(
    private readonly bus: ClusterBus,
    private readonly tasks: TaskService,
    private readonly dispatcher: Dispatcher,
    private readonly registry: ExtensionRegistry,
    private readonly logger: Logger,
  ) {
    bus.on((msg) => {
      if (msg.k === 'queue') {
        this.maybeWork = true;
        this.capacity();
      } else if (msg.k === 'cancel') void this.answerCancel(msg.n, msg.rid, msg.taskId);
    });
  }

  offer(task: Task, waiting: string | undefined): void {
    const entry: Entry = { t: task.target, ...(waiting ? { w: waiting } : {}) };
    const deadline = Date.parse(task.createdAt) + task.timeoutMs;
    const done = (async () => {
      // Its events so far are stored before anyone may claim it: the claimant continues from the stored seq.
      await this.tasks.log.flush();
      const { bus } = this;
      await bus.scripts.sbOffer(
        bus.prefix,
        bus.nodeId,
        task.id,
        Date.parse(task.createdAt),
        deadline,
        JSON.stringify(entry),
      );
      this.armDeadline(task.id, deadline);
      bus.broadcast({ k: 'queue', n: bus.nodeId });
    })();
    this.offering.set(task.id, done);
    done
      .catch((err: unknown) => {
        // Not in the shared queue: this process keeps it (it is still its owner in the store).
        // Nothing was written since it was let go: the copy handed over is its state.
        this.logger.warn({ err, taskId: task.id }, 'cluster: hand-off to the shared queue failed; kept here');
        if (!this.closed) this.dispatcher.takeQueued(task, 'dispatch', waiting);
      })
      .finally(() => this.offering.delete(task.id));
  }

  /** Local hosts may have free slots: claim what they can take. One claim at a time; coalesced. */
  capacity(): void {
    if (this.closed || !this.maybeWork) return;
    if (this.scanning) {
      this.again = true;
      return;
    }
    const hosts = this.registry
      .all()
      .filter((r) => !r.info.paused && r.running.size < r.info.concurrency)
      .map((r) => ({ i: r.info.id, l: r.info.labels, f: r.info.concurrency - r.running.size }));
    if (hosts.length === 0) return;
    this.scanning = true;
    const { bus } = this;
    bus.scripts
      .sbClaimForHosts(bus.prefix, bus.nodeId, JSON.stringify(hosts), SCAN)
      .then(async (out) => {
        const free = hosts.reduce((n, h) => n + h.f, 0);
        if (out.length / 2 < free) this.maybeWork = false;
        for (let i = 0; i < out.length; i += 2) await this.take(out[i] ?? '', out[i + 1] ?? '', 'dispatch');
      })
      .catch((err: unknown) => this.logger.debug({ err }, 'cluster: claim failed'))
      .finally(() => {
        this.scanning = false;
        if (this.again) {
          this.again = false;
          this.capacity();
        }
      });
  }

  /** The periodic sweep: work may have been queued while a message was lost; deadlines of dead offerers. */
  async sweep(): Promise<void> {
    this.maybeWork = true;
    this.capacity();
    const { bus } = this;
    const due = await bus.redis.zrangebyscore(bus.key('cd'), '-inf', Date.now() - 1_000, 'LIMIT', 0, 50);
    for (const id of due) await this.claimOne(id, 'timeout');
  }

  /** Cancels a task this process does not hold: off the shared queue, or by asking its owner. */
  async cancel(taskId: string): Promise<Task> {
    try {
      return await this.cancelAnywhere(taskId);
    } catch (err) {
      if (err instanceof HubError) throw err;
      throw new HubError('store_unavailable', 'the task store (Redis) cannot be reached; try again shortly');
    }
  }

  private async cancelAnywhere(taskId: string): Promise<Task> {
    await this.offering.get(taskId)?.catch(() => {});
    const until = Date.now() + ASK_MS * 5;
    for (;;) {
      const here = this.tasks.live(taskId);
      if (here && !isTerminal(here.status)) return this.dispatcher.cancelLive(taskId);
      const claimed = await this.claimOne(taskId, 'cancel');
      if (claimed) return claimed;
      const [status, owner] = await this.bus.redis.hmget(this.bus.key('t', taskId), 's', 'o');
      if (!status) throw new HubError('not_found', `no task with id ${taskId}`, { field: 'taskId' });
      if (isTerminal(status as TaskStatus))
        throw new HubError('task_finished', `task ${taskId} already ended ${status}`);
      if (owner && owner !== this.bus.nodeId) {
        try {
          return await this.bus.request<Task>(owner, { k: 'cancel', taskId }, ASK_MS);
        } catch (err) {
          if (!(err instanceof Moved) && !(err instanceof HubError && err.code === 'store_unavailable'))
            throw err;
        }
      }
      // Being handed over, or its owner died and is about to be adopted: ask again shortly.
      if (Date.now() > until)
        throw new HubError('store_unavailable', `the hub process holding task ${taskId} does not answer`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  close(): void {
    this.closed = true;
    for (const t of this.deadlineTimers.values()) clearTimeout(t);
    this.deadlineTimers.clear();
  }

  private async answerCancel(from: string, rid: string, taskId: string): Promise<void> {
    await this.offering.get(taskId)?.catch(() => {});
    if (!this.tasks.live(taskId))
      return this.bus.reply(from, rid, {
        ok: false,
        moved: true,
        error: { code: 'not_found', message: 'moved' },
      });
    try {
      const task = this.dispatcher.cancelLive(taskId);
      await this.tasks.log.durable();
      this.bus.reply(from, rid, { ok: true, value: task });
    } catch (err) {
      const e = err instanceof HubError ? err : new HubError('internal', String(err));
      this.bus.reply(from, rid, { ok: false, error: e.toBody() });
    }
  }

  private armDeadline(taskId: string, at: number): void {
    if (this.closed) return;
    const timer = setTimeout(
      () => {
        this.deadlineTimers.delete(taskId);
        void this.claimOne(taskId, 'timeout').catch(() => {});
      },
      Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1),
    );
    timer.unref();
    this.deadlineTimers.set(taskId, timer);
  }

  /** Claims one task off the shared queue and settles it here; null when it was not in the queue. */
  private async claimOne(taskId: string, then: 'timeout' | 'cancel'): Promise<Task | null> {
    const { bus } = this;
    const entry = await bus.scripts.sbClaimOne(bus.prefix, bus.nodeId, taskId);
    if (entry === null) return null;
    return this.take(taskId, entry, then);
  }

  private async take(taskId: string, rawEntry: string, then: 'dispatch' | 'timeout' | 'cancel') {
    clearTimeout(this.deadlineTimers.get(taskId));
    this.deadlineTimers.delete(taskId);
    let entry: Entry | undefined;
    try {
      entry = rawEntry ? (JSON.parse(rawEntry) as Entry) : undefined;
    } catch {
      entry = undefined;
    }
    const task = await this.tasks.store.getTask(taskId);
    if (!task || isTerminal(task.status)) return task;
    return this.dispatcher.takeQueued(task, then, entry?.w);
  }
}
