import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { type Task, type TaskEvent, TaskStatus } from '../protocol/tasks.js';
import { summaryOf } from './service.js';
import type { CommitBatch, TaskFilter, TaskStore } from './store.js';

/**
 * One commit, atomic (a Lua script runs alone on the Redis server): new task rows with their list indexes,
 * events appended to each task's stream under the id `0-<seq>`, changed rows moved between the indexes.
 * A retried commit is harmless: an existing row is not inserted again and Redis refuses a stream id it has
 * already seen.
 *
 * Keys (P = the prefix): P t:<id> hash {b: task JSON without input, i: input JSON, s: status, x: extension,
 * k: kind, p: parent, c: createdAt, q: newest stored seq}; P e:<id> stream of {e: event JSON}; sorted sets of
 * `createdAt|id` members (all score 0, ordered by the member) for the list views: P i:all, P i:s:<status>,
 * P i:k:<kind>, P i:x:<extension>, P i:p:<parent>. In a cluster (`nodeId` set) the row also names its owner
 * (o: the process that writes its events) and P o:<node> holds each node's unfinished tasks (server/cluster).
 *
 * The same script appends one entry per commit to the change stream P bus {o: the committing process,
 * e: JSON array of the events it stored, s: JSON array of the summaries of the rows it wrote}: what the other
 * hub processes read to tell their subscribers (realtime/change-feed.ts). Atomic with the commit, so nobody
 * hears of an event that is not stored, and a retried commit announces only the events it stored.
 */
const COMMIT = `
local P = ARGV[1]
local maxlen = tonumber(ARGV[2])
local ni, ne, nu = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local origin, summaries, busmax = ARGV[6], ARGV[7], tonumber(ARGV[8])
local node = ARGV[9]
local a = 10
for _ = 1, ni do
  local id, kind, status, ext, parent, created, body, input =
    ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7]
  a = a + 8
  local key = P .. 't:' .. id
  if redis.call('EXISTS', key) == 0 then
    local m = created .. '|' .. id
    redis.call('HSET', key, 'b', body, 'i', input, 's', status, 'x', ext, 'k', kind, 'p', parent, 'c', created, 'q', 0)
    if node ~= '' then
      redis.call('HSET', key, 'o', node)
      redis.call('SADD', P .. 'o:' .. node, id)
    end
    redis.call('ZADD', P .. 'i:all', 0, m)
    redis.call('ZADD', P .. 'i:s:' .. status, 0, m)
    redis.call('ZADD', P .. 'i:k:' .. kind, 0, m)
    if ext ~= '' then redis.call('ZADD', P .. 'i:x:' .. ext, 0, m) end
    if parent ~= '' then redis.call('ZADD', P .. 'i:p:' .. parent, 0, m) end
  end
end
local newest = {}
local told = {}
for _ = 1, ne do
  local id, seq, body = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  a = a + 3
  local r
  if maxlen > 0 then
    r = redis.pcall('XADD', P .. 'e:' .. id, 'MAXLEN', '~', maxlen, '0-' .. seq, 'e', body)
  else
    r = redis.pcall('XADD', P .. 'e:' .. id, '0-' .. seq, 'e', body)
  end
  if type(r) ~= 'table' or not r.err then
    newest[id] = seq
    told[#told + 1] = body
  end
end
for id, seq in pairs(newest) do redis.call('HSET', P .. 't:' .. id, 'q', seq) end
for _ = 1, nu do
  local id, status, ext, body = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  a = a + 4
  local key = P .. 't:' .. id
  local old = redis.call('HMGET', key, 's', 'x', 'c')
  if old[3] then
    local m = old[3] .. '|' .. id
    if old[1] ~= status then
      redis.call('ZREM', P .. 'i:s:' .. old[1], m)
      redis.call('ZADD', P .. 'i:s:' .. status, 0, m)
    end
    if old[2] ~= ext then
      if old[2] and old[2] ~= '' then redis.call('ZREM', P .. 'i:x:' .. old[2], m) end
      if ext ~= '' then redis.call('ZADD', P .. 'i:x:' .. ext, 0, m) end
    end
    redis.call('HSET', key, 'b', body, 's', status, 'x', ext)
    if status == 'succeeded' or status == 'failed' or status == 'cancelled' or status == 'timed_out' then
      local owner = redis.call('HGET', key, 'o')
      if owner and owner ~= '' then redis.call('SREM', P .. 'o:' .. owner, id) end
    end
  end
end
if #told > 0 or summaries ~= '[]' then
  redis.call('XADD', P .. 'bus', 'MAXLEN', '~', busmax, '*', 'o', origin, 'e', '[' .. table.concat(told, ',') .. ']', 's', summaries)
end
return 1
`;

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
 * The task store in Redis (`SWITCHBOARD_REDIS_URL`): what several hub processes share. Commands are not
 * queued while Redis is down: they fail at once, and the task service turns that into `store_unavailable`
 * (reads, new work) or retries the commit until Redis is back (work already accepted).
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
    const args: Array<string | number> = [
      this.prefix,
      this.maxlen,
      batch.inserts.length,
      batch.events.length,
      batch.updates.length,
      this.origin,
      summariesJson(batch),
      this.busMaxlen,
      this.nodeId,
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
    for (const e of batch.events) args.push(e.taskId, e.seq, JSON.stringify(e));
    for (const t of batch.updates) args.push(t.id, t.status, t.extensionId ?? '', mutableJson(t));
    await this.run(() => (this.redis as unknown as Commit).sbCommit(...args));
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
    const out: TaskEvent[] = [];
    let from = `(0-${afterSeq}`;
    let bytes = 0;
    while (out.length < limit) {
      const count = Math.min(PAGE, limit - out.length);
      const page = await this.run(() => this.redis.xrange(this.key('e', taskId), from, '+', 'COUNT', count));
      for (const [, fields] of page) {
        const body = fields[1] ?? 'null';
        out.push(JSON.parse(body) as TaskEvent);
        bytes += body.length;
        if (maxBytes !== undefined && bytes >= maxBytes) return out;
      }
      if (page.length < count) break;
      from = `(${page.at(-1)?.[0]}`;
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

type Commit = { sbCommit(...args: Array<string | number>): Promise<unknown> };

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
