import type { Redis } from 'ioredis';
import type { ExtensionRegistry } from '../dispatch/registry.js';
import type { Logger } from '../log.js';
import type { ExtensionInfo } from '../protocol/extension.js';
import type { TaskEvent, TaskSummary } from '../protocol/tasks.js';
import type { RedisTaskStore } from '../tasks/redis-store.js';
import { type EventRef, RemoteTasks } from '../tasks/remote-tasks.js';
import type { TaskService } from '../tasks/service.js';

type PresenceListener = (info: ExtensionInfo, online: boolean) => void;

/**
 * Entries per XREAD, and how long one blocks before it is asked again (so `close` is prompt). An entry carries
 * at most ~64 KB of event bodies (larger ones go by reference, redis-scripts.ts), so a read stays a few MB.
 */
const READ_COUNT = 100;
const BLOCK_MS = 2_000;

/** Redis stream ids ("ms-n") in order. */
function after(a: string, b: string): boolean {
  const [am = 0, an = 0] = a.split('-').map(Number);
  const [bm = 0, bn = 0] = b.split('-').map(Number);
  return am !== bm ? am > bm : an > bn;
}

/**
 * Cluster mode: how what one hub process commits reaches the subscribers on all the others. The task store's
 * commit appends one entry per commit to the stream `<prefix>bus` (events and status rows, atomically with
 * the commit); each process reads that stream on one connection of its own and tells its local listeners,
 * Socket.IO rooms, raw ws monitors, SSE streams and waiters alike (`RemoteTasks`). Each event crosses Redis
 * once per commit and comes out once per process, however many subscribers that process has (a large one goes
 * in the stream as a reference, read from the task's stream by each other process: RemoteTasks). Extension
 * presence rides the same stream. What a process wrote itself it has told already, and skips.
 */
export class ChangeFeed {
  private readonly key: string;
  private readonly presence = new Set<PresenceListener>();
  private readonly waiters: Array<{ id: string; resolve: () => void }> = [];
  private readonly remote: RemoteTasks;
  private lastId = '0-0';
  private closed = false;
  private down = false;
  private loop: Promise<void> | undefined;
  private readonly offPresence: () => void;

  private constructor(
    private readonly store: RedisTaskStore,
    private readonly reader: Redis,
    private readonly tasks: TaskService,
    registry: ExtensionRegistry,
    private readonly logger: Logger,
  ) {
    this.key = `${store.prefix}bus`;
    this.remote = new RemoteTasks(
      {
        caughtUp: () => this.caughtUp(),
        read: async (taskId, afterSeq, limit, maxBytes) =>
          store.readEvents(taskId, afterSeq, limit, maxBytes),
      },
      (e) => tasks.tellRemote(e),
      logger,
    );
    tasks.attachRemote(this.remote);
    this.offPresence = registry.onPresence((extension, online) => this.publishPresence(extension, online));
  }

  /** Starts reading from the stream's current end: what was committed before is in the store. */
  static async start(
    store: RedisTaskStore,
    tasks: TaskService,
    registry: ExtensionRegistry,
    logger: Logger,
  ): Promise<ChangeFeed> {
    const reader = store.redis.duplicate();
    // Its own errors are said by the loop, once per outage.
    reader.on('error', () => {});
    const feed = new ChangeFeed(store, reader, tasks, registry, logger);
    try {
      feed.lastId = (await feed.newest()) ?? '0-0';
    } catch (err) {
      feed.close();
      throw err;
    }
    feed.loop = feed.read();
    return feed;
  }

  /** Presence of extensions connected to other processes. */
  onRemotePresence(fn: PresenceListener): () => void {
    this.presence.add(fn);
    return () => this.presence.delete(fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.offPresence();
    this.reader.disconnect();
    await this.loop;
  }

  /** Resolves once every entry appended before the call has been taken. */
  private async caughtUp(): Promise<void> {
    const id = await this.newest();
    if (!id || !after(id, this.lastId)) return;
    await new Promise<void>((resolve) => this.waiters.push({ id, resolve }));
  }

  private async newest(): Promise<string | undefined> {
    const top = await this.store.redis.xrevrange(this.key, '+', '-', 'COUNT', 1);
    return top[0]?.[0];
  }

  private async read(): Promise<void> {
    let backoff = 100;
    while (!this.closed) {
      try {
        if (this.reader.status === 'wait') await this.reader.connect();
        const res = await this.reader.xread(
          'COUNT',
          READ_COUNT,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          this.key,
          this.lastId,
        );
        if (this.down) this.logger.info('cluster: change stream readable again');
        this.down = false;
        backoff = 100;
        for (const [, entries] of res ?? [])
          for (const [id, fields] of entries) {
            await this.take(fields);
            this.lastId = id;
          }
        this.release();
      } catch (err) {
        if (this.closed) break;
        if (!this.down)
          this.logger.warn(
            { err: { message: (err as Error).message } },
            'cluster: cannot read the change stream (Redis unreachable); retrying',
          );
        this.down = true;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 2_000);
      }
    }
    this.release(true);
  }

  private release(all = false): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i];
      if (w && (all || !after(w.id, this.lastId))) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  private async take(fields: string[]): Promise<void> {
    const entry: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) entry[fields[i] as string] = fields[i + 1] as string;
    if (entry['o'] === this.store.origin) return;
    try {
      if (entry['e'] && entry['e'] !== '[]')
        await this.remote.take(JSON.parse(entry['e']) as Array<TaskEvent | EventRef>);
      if (entry['s'] && entry['s'] !== '[]')
        for (const s of JSON.parse(entry['s']) as TaskSummary[]) this.tasks.tellRemoteSummary(s);
      if (entry['p']) {
        const { extension, online } = JSON.parse(entry['p']) as { extension: ExtensionInfo; online: boolean };
        for (const fn of this.presence) fn(extension, online);
      }
    } catch (err) {
      this.logger.error({ err }, 'cluster: a change stream entry could not be taken');
    }
  }

  private publishPresence(extension: ExtensionInfo, online: boolean): void {
    this.store.redis
      .xadd(
        this.key,
        'MAXLEN',
        '~',
        10_000,
        '*',
        'o',
        this.store.origin,
        'p',
        JSON.stringify({ extension, online }),
      )
      .catch((err: Error) =>
        this.logger.warn({ err: { message: err.message } }, 'cluster: presence not published (Redis down)'),
      );
  }
}
