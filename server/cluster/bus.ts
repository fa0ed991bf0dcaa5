import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ErrorBody } from '../protocol/common.js';
import { type ClusterScripts, SCRIPTS } from './scripts.js';

/** A message between hub processes (Redis pub/sub): to one node's channel, or to all. */
export type BusMessage =
  | { k: 'host'; n: string; id: string; info?: unknown }
  | { k: 'queue'; n: string }
  | { k: 'cancel'; n: string; rid: string; taskId: string }
  | { k: 'handover'; n: string; rid: string; taskId: string; ext: string }
  | { k: 'reply'; n: string; rid: string; ok: true; value: unknown }
  | { k: 'reply'; n: string; rid: string; ok: false; error: ErrorBody; moved?: true };

/** The process asked no longer holds the task (handed over meanwhile): read its owner again. */
export class Moved extends Error {
  override readonly name = 'Moved';
}

type Handler = (msg: BusMessage) => void;

/**
 * The wire between the processes of a cluster: the shared Redis client (commands and the cluster's Lua
 * scripts) and a subscriber on two channels, P ch:all (everyone) and P ch:<node> (this process), with
 * request/reply on top. Messages are small JSON; nothing here is durable (state lives in keys).
 */
export class ClusterBus {
  readonly scripts: ClusterScripts;
  private readonly sub: Redis;
  private readonly handlers = new Set<Handler>();
  private readonly waiting = new Map<string, (m: BusMessage & { k: 'reply' }) => void>();

  private constructor(
    readonly redis: Redis,
    readonly prefix: string,
    readonly nodeId: string,
    private readonly logger: Logger,
  ) {
    for (const [name, lua] of Object.entries(SCRIPTS))
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 0, lua });
    this.scripts = redis as unknown as ClusterScripts;
    this.sub = redis.duplicate({ lazyConnect: true });
    this.sub.on('error', () => {}); // the store's client says when Redis is down
    this.sub.on('message', (_channel: string, raw: string) => this.receive(raw));
  }

  static async connect(redis: Redis, prefix: string, nodeId: string, logger: Logger): Promise<ClusterBus> {
    const bus = new ClusterBus(redis, prefix, nodeId, logger);
    await bus.sub.connect();
    await bus.sub.subscribe(bus.channel('all'), bus.channel(nodeId));
    return bus;
  }

  key(...parts: string[]): string {
    return `${this.prefix}${parts.join(':')}`;
  }

  on(fn: Handler): void {
    this.handlers.add(fn);
  }

  /** To every process (this one too). Lost when Redis is down: the periodic sweeps catch up. */
  broadcast(msg: BusMessage): void {
    this.redis.publish(this.channel('all'), JSON.stringify(msg)).catch(() => {});
  }

  /** Answers a request (`ok` with a value, or the error body; `moved` when the task is not held here). */
  reply(
    to: string,
    rid: string,
    body: { ok: true; value: unknown } | { ok: false; error: ErrorBody; moved?: true },
  ): void {
    this.send(to, { k: 'reply', n: this.nodeId, rid, ...body } as BusMessage);
  }

  send(node: string, msg: BusMessage): void {
    this.redis.publish(this.channel(node), JSON.stringify(msg)).catch(() => {});
  }

  /** Asks one process; rejects with its HubError, or with `store_unavailable` when it does not answer in time. */
  async request<T>(
    node: string,
    msg: { k: 'cancel'; taskId: string } | { k: 'handover'; taskId: string; ext: string },
    timeoutMs: number,
  ): Promise<T> {
    const rid = randomBytes(8).toString('hex');
    const reply = new Promise<BusMessage & { k: 'reply' }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(rid);
        reject(new HubError('store_unavailable', `hub process ${node} did not answer`));
      }, timeoutMs);
      this.waiting.set(rid, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
    const receivers = await this.redis
      .publish(this.channel(node), JSON.stringify({ ...msg, n: this.nodeId, rid }))
      .catch(() => 0);
    // Nobody listens on its channel: the process is gone (its lease will run out and it will be adopted).
    if (receivers === 0)
      this.waiting.get(rid)?.({
        k: 'reply',
        n: node,
        rid,
        ok: false,
        error: { code: 'store_unavailable', message: `hub process ${node} is gone` },
        moved: true,
      });
    const m = await reply;
    if (m.ok) return m.value as T;
    if (m.moved) throw new Moved(`task moved away from ${node}`);
    throw new HubError(m.error.code, m.error.message);
  }

  async close(): Promise<void> {
    this.handlers.clear();
    try {
      await this.sub.quit();
    } catch {
      this.sub.disconnect();
    }
  }

  private channel(name: string): string {
    return `${this.prefix}ch:${name}`;
  }

  private receive(raw: string): void {
    let msg: BusMessage;
    try {
      msg = JSON.parse(raw) as BusMessage;
    } catch {
      return;
    }
    if (msg.k === 'reply') {
      this.waiting.get(msg.rid)?.(msg);
      this.waiting.delete(msg.rid);
      return;
    }
    for (const fn of this.handlers) {
      try {
        fn(msg);
      } catch (err) {
        this.logger.warn({ err }, 'cluster message handler failed');
      }
    }
  }
}
