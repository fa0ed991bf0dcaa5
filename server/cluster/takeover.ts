import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { Logger } from '../log.js';
import { isTerminal, type Task } from '../protocol/tasks.js';
import type { TaskService } from '../tasks/service.js';
import type { ClusterBus } from './bus.js';
import type { ClusterHosts } from './hosts.js';

/**
 * Liveness: each process renews its lease (P n:<node>, SWITCHBOARD_NODE_LEASE_MS) every third of it, and
 * looks for processes whose lease ran out. The first to set the NX lock P adopt:<node> adopts the dead one's
 * unfinished tasks and settles them as restart recovery does (workflows fail, code jobs out on its hosts go
 * back to the queue or fail per their retry budget, queued ones are queued here).
 */
export class Takeover {
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private redisDown = false;

  constructor(
    private readonly bus: ClusterBus,
    private readonly tasks: TaskService,
    private readonly dispatcher: Dispatcher,
    private readonly hosts: ClusterHosts,
    private readonly leaseMs: number,
    private readonly logger: Logger,
    /** Runs after each round (the shared queue's sweep). */
    private readonly also: () => Promise<void>,
  ) {}

  /**
   * First round now, then every third of the lease. `formerSelf` is the node this process's data dir last
   * ran as: gone for sure (the data dir lock says so), so a restart adopts it at once, as a restart recovers.
   */
  async start(formerSelf?: string): Promise<void> {
    if (formerSelf && formerSelf !== this.bus.nodeId) await this.adopt(formerSelf, true);
    await this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A clean shutdown: the lease goes at once, so another process adopts what is left without waiting. */
  async resign(): Promise<void> {
    this.stop();
    await this.bus.redis.del(this.bus.key('n', this.bus.nodeId)).catch(() => 0);
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const { bus } = this;
      const renewed = await bus.scripts.sbHeartbeat(bus.prefix, bus.nodeId, this.leaseMs);
      if (this.redisDown) {
        this.redisDown = false;
        this.hosts.republish();
      }
      if (renewed === 0) this.fenced();
      const nodes = await bus.redis.smembers(bus.key('nodes'));
      const others = nodes.filter((n) => n !== bus.nodeId);
      const alive = new Set<string>([bus.nodeId]);
      if (others.length) {
        const pipe = bus.redis.pipeline();
        for (const n of others) pipe.exists(bus.key('n', n));
        const res = (await pipe.exec()) ?? [];
        for (const [i, n] of others.entries()) {
          if (Number(res[i]?.[1] ?? 0) === 1) alive.add(n);
          else await this.adopt(n);
        }
      }
      await this.hosts.refresh(alive);
      await this.also();
    } catch (err) {
      if (!this.redisDown) this.logger.debug({ err }, 'cluster: heartbeat round failed');
      this.redisDown = true;
    } finally {
      this.ticking = false;
    }
  }

  private async adopt(dead: string, force = false): Promise<void> {
    const { bus } = this;
    const lockMs = Math.max(60_000, this.leaseMs * 4);
    const won = await bus.scripts.sbTakeover(bus.prefix, bus.nodeId, dead, lockMs, force ? '1' : '0');
    if (!won) return;
    const [ids, hostIds] = won;
    this.hosts.forget(hostIds);
    for (const id of hostIds) bus.broadcast({ k: 'host', n: dead, id });
    const adopted: Task[] = [];
    // Jobs whose host has reconnected to a live process, which is taking them over: handed to it, not re-queued.
    const takers = ids.length ? await bus.redis.mget(ids.map((id) => bus.key('rc', id))) : [];
    for (const [i, id] of ids.entries()) {
      const taker = takers[i];
      if (taker && (await bus.scripts.sbHandover(bus.prefix, bus.nodeId, taker, id)) === 1) continue;
      const task = await this.tasks.store.getTask(id);
      if (task && !isTerminal(task.status)) adopted.push(this.tasks.adopt(task));
    }
    this.logger.warn(
      { node: dead, tasks: adopted.length, extensions: hostIds.length },
      'cluster: a hub process stopped heartbeating; its tasks are adopted here',
    );
    this.dispatcher.recoverTasks(adopted);
  }

  /**
   * Another process took this one for dead (it stalled past its lease) and adopted its tasks: they are no
   * longer this process's to write. It forgets them and carries on as a fresh member.
   */
  private fenced(): void {
    const mine = this.tasks.activeTasks();
    this.logger.error(
      { node: this.bus.nodeId, tasks: mine.length },
      'cluster: this process missed its lease and was adopted by another; dropping its tasks',
    );
    for (const t of mine) this.tasks.release(t.id);
    void this.bus.redis.del(this.bus.key('adopt', this.bus.nodeId)).then(() => this.hosts.republish());
  }
}
