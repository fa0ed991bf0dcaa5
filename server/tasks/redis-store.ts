import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { type Task, type TaskEvent, TaskStatus } from '../protocol/tasks.js';
import { COMMIT, READ } from './redis-scripts.js';
import { summaryOf } from './service.js';
import type { CommitBatch, TaskFilter, TaskStore } from './store.js';

export interface RedisStoreOptions {
  prefix?: string;
  /** Events kept per task stream (approximate trim); 0 keeps all. */
  eventsMaxlen?: number;
  /** This process in the change stream (P bus), so it can skip what it wrote itself. */
  origin?: string;
  /** Entries kept in the change stream (approximate trim). */
  busMaxlen?: number;
  logger?: Logger;
  /** Cluster mode: the process writing; new rows are owned by it (server/cluster). */
  nodeId?: string;
}

const unavailable = () =>
  new HubError('store_unavailable', 'the task store (Redis) cannot be reached; try again shortly');

/** Reads run in pages of this many stream entries or index members. */
const PAGE = 500;
/**
 * Event bodies larger than this go in a change stream entry as a reference to the task's stream, as do those
 * past the entry's budget of inline bodies: an entry stays a few tens of KB, however large the output.
 */
export const BUS_INLINE_MAX = 16 * 1024;
export const BUS_INLINE_BUDGET = 64 * 1024;

/**
 * The task store in Redis (`SWITCHBOARD_REDIS_URL`): what several hub processes share. Commands are not
 * queued while Redis is down: they fail at once, and the task service turns that into `store_unavailable`
 * (reads, new work) or retries the commit until Redis is back (work already accepted). The keys and what they
 * hold are described with the scripts that write them (redis-scripts.ts).
 */
export class RedisTaskStore implements TaskStore {
  readonly prefix: string;
  private readonly maxlen: number;
  readonly origin: string;
  private readonly busMaxlen: number;
  private readonly nodeId: string;
  private down = false;

  private constructor(
    readonly redis: Redis,
    opts: RedisStoreOptions,
  ) {
    this.prefix = opts.prefix ?? 'sb:';
    this.maxlen = opts.eventsMaxlen ?? 0;
    this.origin = opts.origin ?? randomUUID();
    this.busMaxlen = opts.busMaxlen ?? 10_000;
    this.nodeId = opts.nodeId ?? '';
    redis.defineCommand('sbCommit', { numberOfKeys: 0, lua: COMMIT });
    redis.defineCommand('sbRead', { numberOfKeys: 1, lua: READ });
    // Said once per outage, without the URL (it may carry a password).
    redis.on('error', (err: Error) => {
      if (this.down) return;
      this.down = true;
      opts.logger?.warn({ err: { message: err.message } }, 'task store: Redis unreachable; retrying');
    });
    redis.on('ready', () => {
      if (this.down) opts.logger?.info('task store: Redis reachable again');
      this.down = false;
    });
  }

  /** Connects (failing clearly when Redis cannot be reached at start). */
  static async connect(url: string, opts: RedisStoreOptions = {}): Promise<RedisTaskStore> {
    const redis = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 5_000,
      retryStrategy: (times) => Math.min(times * 100, 1_000),
    });
    const store = new RedisTaskStore(redis, opts);
    try {
      await redis.connect();
    } catch (err) {
      redis.disconnect();
      throw new Error(`SWITCHBOARD_REDIS_URL: cannot reach Redis (${(err as Error).message})`);
    }
    return store;
  }

  get available(): boolean {
    return this.redis.status === 'ready';
  }

  async commit(batch: CommitBatch): Promise<void> {
    if (!batch.inserts.length && !batch.events.length && !batch.updates.length) return;
    const args: Array<string | number | Buffer> = [
      this.prefix,
      this.maxlen,
      batch.inserts.length,
      batch.events.length,
      batch.updates.length,
      this.origin,
      summariesJson(batch),
      this.busMaxlen,
      this.nodeId,
      BUS_INLINE_MAX,
      BUS_INLINE_BUDGET,
    ];
    for (const t of batch.inserts)
      args.push(
        t.id,
        t.kind,
        t.status,
        t.extensionId ?? '',
        t.parentId ?? '',
        t.createdAt,
        mutableJson(t),
        JSON.stringify(t.input),
      );
    // Event bodies go as Buffers: ioredis then writes the command from them instead of concatenating one
    // string of every argument, and no megabyte-sized string outlives this call on the V8 heap while the
    // commit is out (output of 1 MB chunks otherwise piles up as old-generation garbage, far past the RSS
    // a hub on SQLite needs).
    for (const e of batch.events) args.push(e.taskId, e.seq, Buffer.from(JSON.stringify(e)));
    for (const t of batch.updates) args.push(t.id, t.status, t.extensionId ?? '', mutableJson(t));
    await this.run(() => (this.redis as unknown as Scripts).sbCommit(...args));
  }

  async getTask(id: string): Promise<Task | null> {
    const [b, i, q] = await this.run(() => this.redis.hmget(this.key('t', id), 'b', 'i', 'q'));
    return b ? fromFields(b, i ?? null, q ?? null) : null;
  }

  async listTasks(f: TaskFilter): Promise<Task[]> {
    // The narrowest index named; the other filters are applied to what it yields.
    const index = f.parentId
      ? this.key('i:p', f.parentId)
      : f.extensionId
        ? this.key('i:x', f.extensionId)
        : f.status
          ? this.key('i:s', f.status)
          : f.kind
            ? this.key('i:k', f.kind)
            : `${this.prefix}i:all`;
    const out: Task[] = [];
    let max = f.before ? `(${f.before.createdAt}|${f.before.id}` : '+';
    const chunk = Math.max(PAGE, f.limit * 2);
    while (out.length < f.limit) {
      const members = await this.run(() => this.redis.zrevrangebylex(index, max, '-', 'LIMIT', 0, chunk));
      if (members.length === 0) break;
      for (const t of await this.fetch(members.map(idOf))) {
        if (f.status && t.status !== f.status) continue;
        if (f.kind && t.kind !== f.kind) continue;
        if (f.extensionId && t.extensionId !== f.extensionId) continue;
        if (f.parentId && t.parentId !== f.parentId) continue;
        out.push(t);
        if (out.length >= f.limit) break;
      }
      if (members.length < chunk) break;
      max = `(${members.at(-1)}`;
    }
    return out;
  }

  async tasksWithStatus(statuses: readonly TaskStatus[]): Promise<Task[]> {
    const members: string[] = [];
    for (const s of statuses)
      members.push(...(await this.run(() => this.redis.zrangebylex(this.key('i:s', s), '-', '+'))));
    members.sort();
    return this.fetch(members.map(idOf));
  }

  async appendEvents(events: readonly TaskEvent[]): Promise<void> {
    await this.commit({ inserts: [], events, updates: [] });
  }

  async readEvents(taskId: string, afterSeq: number, limit = Number.MAX_SAFE_INTEGER, maxBytes?: number) {
    const key = this.key('e', taskId);
    const out: TaskEvent[] = [];
    let after = afterSeq;
    let budget = maxBytes ?? 0;
    while (out.length < limit) {
      const count = Math.min(PAGE, limit - out.length);
      // A byte budget is kept by the script on the server; without one, plain XRANGE pages are cheaper.
      const page =
        maxBytes === undefined
          ? (await this.run(() => this.redis.xrange(key, `(0-${after}`, '+', 'COUNT', count))).map(
              ([, fields]) => fields[1] ?? 'null',
            )
          : await this.run(() =>
              (this.redis as unknown as Scripts).sbRead(key, `(0-${after}`, count, budget),
            );
      let bytes = 0;
      for (const body of page) {
        const e = JSON.parse(body) as TaskEvent;
        out.push(e);
        after = e.seq;
        if (maxBytes !== undefined) bytes += Buffer.byteLength(body); // as the script counts (#body: bytes)
      }
      if (maxBytes !== undefined) {
        if (bytes >= budget) break;
        budget -= bytes;
      }
      if (page.length < count) break;
    }
    return out;
  }

  async countByStatus(): Promise<Record<string, number>> {
    const pipe = this.redis.pipeline();
    for (const s of TaskStatus.options) pipe.zcard(this.key('i:s', s));
    const res = await this.run(() => pipe.exec());
    const out: Record<string, number> = {};
    TaskStatus.options.forEach((s, i) => {
      const n = Number(res?.[i]?.[1] ?? 0);
      if (n > 0) out[s] = n;
    });
    return out;
  }

  async close(): Promise<void> {
    if (this.redis.status === 'end') return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  private key(kind: string, id: string): string {
    return `${this.prefix}${kind}:${id}`;
  }

  private async fetch(ids: readonly string[]): Promise<Task[]> {
    const out: Task[] = [];
    for (let i = 0; i < ids.length; i += PAGE) {
      const pipe = this.redis.pipeline();
      for (const id of ids.slice(i, i + PAGE)) pipe.hmget(this.key('t', id), 'b', 'i', 'q');
      const res = await this.run(() => pipe.exec());
      for (const [err, fields] of res ?? []) {
        if (err) throw err;
        const [b, input, q] = fields as Array<string | null>;
        if (b) out.push(fromFields(b, input ?? null, q ?? null));
      }
    }
    return out;
  }

  /** A command; Redis down (or going down under it) is `store_unavailable`. */
  private async run<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.available) throw unavailable();
    try {
      return await fn();
    } catch (err) {
      if (!this.available || isConnectionError(err)) throw unavailable();
      throw err;
    }
  }
}

type Scripts = {
  sbCommit(...args: Array<string | number | Buffer>): Promise<unknown>;
  sbRead(key: string, from: string, count: number, maxBytes: number): Promise<string[]>;
};

function isConnectionError(err: unknown): boolean {
  const m = err instanceof Error ? err.message : '';
  return /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|MaxRetriesPerRequest/i.test(m);
}

function idOf(member: string): string {
  return member.slice(member.indexOf('|') + 1);
}

/** The list-view rows a commit wrote (new tasks and status changes), for the change stream. */
function summariesJson(batch: CommitBatch): string {
  if (!batch.inserts.length && !batch.updates.length) return '[]';
  return JSON.stringify([...batch.inserts, ...batch.updates].map(summaryOf));
}

/** The task without its input: what changes over a task's life. */
function mutableJson(task: Task): string {
  const { input: _input, ...rest } = task;
  return JSON.stringify(rest);
}

function fromFields(b: string, input: string | null, q: string | null): Task {
  const task = JSON.parse(b) as Task;
  if (input !== null) task.input = JSON.parse(input) as Task['input'];
  const stored = Number(q ?? 0);
  // A row is rewritten on status changes only: after a crash the events of an unfinished task can be ahead.
  if (stored > task.lastSeq) task.lastSeq = stored;
  return task;
}
