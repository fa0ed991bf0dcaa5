import type { ExtensionRegistry } from '../dispatch/registry.js';
import type { Logger } from '../log.js';
import type { ExtensionInfo } from '../protocol/extension.js';
import type { Target } from '../protocol/tasks.js';
import type { ClusterBus } from './bus.js';

interface RemoteHost {
  node: string;
  info: ExtensionInfo;
  /** Tasks this process offered to it since its last update: a free slot is offered once, not to everyone. */
  offered: number;
}

/**
 * The shared extension registry: each process writes its own hosts to P x (id -> {n: node, i: info}) and
 * tells the others on every change (presence, slots, pause); each keeps a view of the other processes'
 * hosts, read whole at start and on each sweep, for the list views and for placing queued tasks.
 */
export class ClusterHosts {
  private readonly remote = new Map<string, RemoteHost>();
  private readonly off: () => void;
  private closed = false;

  constructor(
    private readonly bus: ClusterBus,
    private readonly registry: ExtensionRegistry,
    private readonly logger: Logger,
    /** Called when another process's host may have a free slot (queued tasks here may go to it). */
    private readonly freed: () => void,
  ) {
    this.off = registry.onPresence((info, online) => this.publish(info, online));
    registry.remote = () => [...this.remote.values()].map((r) => r.info);
    bus.on((msg) => {
      if (msg.k !== 'host' || msg.n === bus.nodeId) return;
      if (msg.info) this.seen(msg.n, msg.info as ExtensionInfo);
      else if (this.remote.get(msg.id)?.node === msg.n) this.remote.delete(msg.id);
    });
  }

  /** Reads the whole shared registry (at start and on each sweep: messages lost while Redis was away). */
  async refresh(alive: ReadonlySet<string>): Promise<void> {
    const all = await this.bus.redis.hgetall(this.bus.key('x'));
    const fresh = new Set<string>();
    for (const [id, raw] of Object.entries(all)) {
      try {
        const e = JSON.parse(raw) as { n: string; i: ExtensionInfo };
        if (e.n === this.bus.nodeId || !alive.has(e.n)) continue;
        fresh.add(id);
        // Also forgets what was offered to it: offers nobody claimed are not held against it for ever.
        this.seen(e.n, e.i);
      } catch {
        // a foreign value: skipped
      }
    }
    for (const id of this.remote.keys()) if (!fresh.has(id)) this.remote.delete(id);
  }

  /** Hosts of a process that died: gone from the view at once. */
  forget(ids: readonly string[]): void {
    for (const id of ids) this.remote.delete(id);
  }

  /**
   * Whether a host on another process has a free slot for the task; counts the offer against that host so a
   * burst of queued tasks is not all sent to one free slot.
   */
  reserveFor(target: Target): boolean {
    for (const r of this.remote.values()) {
      const i = r.info;
      if (i.paused || i.online === false) continue;
      if (target.extensionId && i.id !== target.extensionId) continue;
      if (target.label && !i.labels.includes(target.label)) continue;
      if (i.running.length + r.offered >= i.concurrency) continue;
      r.offered += 1;
      return true;
    }
    return false;
  }

  /** Writes every local host again (after this process was taken for dead, or Redis came back). */
  republish(): void {
    for (const info of this.registry.list()) if (this.registry.get(info.id)) this.publish(info, true);
  }

  close(): void {
    this.closed = true;
    this.off();
    this.registry.remote = undefined;
  }

  /** Removes this process's hosts from the shared registry (a clean shutdown). */
  async withdraw(): Promise<void> {
    const { bus } = this;
    const all = await bus.redis.hgetall(bus.key('x')).catch(() => ({}) as Record<string, string>);
    for (const id of Object.keys(all)) {
      if ((await bus.scripts.sbHostGone(bus.prefix, bus.nodeId, id).catch(() => 0)) === 1)
        bus.broadcast({ k: 'host', n: bus.nodeId, id });
    }
  }

  private seen(node: string, info: ExtensionInfo): void {
    if (this.registry.get(info.id)) return; // this process has it: its own record wins
    const before = this.remote.get(info.id);
    this.remote.set(info.id, { node, info, offered: 0 });
    const free = !info.paused && info.running.length < info.concurrency;
    const wasFree = before && !before.info.paused && before.info.running.length < before.info.concurrency;
    if (free && (!wasFree || before.offered > 0)) this.freed();
  }

  private publish(info: ExtensionInfo, online: boolean): void {
    if (this.closed) return;
    const { bus } = this;
    const write = online
      ? bus.redis.hset(bus.key('x'), info.id, JSON.stringify({ n: bus.nodeId, i: info }))
      : bus.scripts.sbHostGone(bus.prefix, bus.nodeId, info.id);
    write.then(
      () => bus.broadcast({ k: 'host', n: bus.nodeId, id: info.id, ...(online ? { info } : {}) }),
      (err: unknown) => this.logger.debug({ err, extensionId: info.id }, 'shared registry write failed'),
    );
  }
}
