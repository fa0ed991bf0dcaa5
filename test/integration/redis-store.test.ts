import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Task, TaskEvent } from '../../server/protocol/index.js';
import { BUS_INLINE_BUDGET, BUS_INLINE_MAX, RedisTaskStore } from '../../server/tasks/redis-store.js';
import { http, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { type RedisServer, startRedis } from '../helpers/redis.js';
import { scriptedExtension } from '../helpers/scripted-extension.js';
import { openSse } from '../helpers/sse-client.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function task(id: string, createdAt: string, over: Partial<Task> = {}): Task {
  return {
    id,
    kind: 'code',
    status: 'queued',
    target: {},
    parentId: null,
    traceId: `tr-${id}`,
    attempts: 0,
    maxAttempts: 1,
    timeoutMs: 1000,
    extensionId: null,
    input: { code: `print("${id}")` },
    result: null,
    error: null,
    createdAt,
    updatedAt: createdAt,
    startedAt: null,
    endedAt: null,
    lastSeq: 0,
    ...over,
  };
}

const output = (taskId: string, seq: number, text = `line ${seq}\n`): TaskEvent => ({
  taskId,
  seq,
  ts: new Date().toISOString(),
  type: 'output',
  data: { stream: 'stdout', text },
});

describe('Redis task store (driver)', () => {
  let redis: RedisServer;
  let store: RedisTaskStore;
  beforeAll(async () => {
    redis = await startRedis();
    store = await RedisTaskStore.connect(redis.url, { prefix: 'drv:', eventsMaxlen: 0 });
  });
  afterAll(async () => {
    await store?.close();
    await redis?.stop();
  });

  it('keeps events in one stream per task under 0-<seq>, replays from a cursor, and a retried commit is harmless', async () => {
    const t = task('t1', '2026-01-01T00:00:00.000Z');
    const events = Array.from({ length: 10 }, (_, i) => output('t1', i + 1));
    await store.commit({ inserts: [t], events, updates: [] });
    // The same commit again (a retry after a lost reply): nothing doubles.
    await store.commit({ inserts: [t], events, updates: [] });
    const raw = new Redis(redis.url);
    cleanups.push(() => raw.quit());
    const ids = (await raw.xrange('drv:e:t1', '-', '+')).map(([id]) => id);
    expect(ids).toEqual(events.map((e) => `0-${e.seq}`));
    expect((await store.readEvents('t1', 0)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect((await store.readEvents('t1', 7)).map((e) => e.seq)).toEqual([8, 9, 10]);
    expect((await store.readEvents('t1', 2, 3)).map((e) => e.seq)).toEqual([3, 4, 5]);
    // The byte cap stops after the event that passes it.
    const one = JSON.stringify(events[0]).length;
    expect((await store.readEvents('t1', 0, 100, one * 2)).map((e) => e.seq)).toEqual([1, 2]);
    // The row's lastSeq is behind (rows are rewritten on status changes): the stored events win.
    expect((await store.getTask('t1'))?.lastSeq).toBe(10);
    expect((await store.getTask('t1'))?.input).toEqual({ code: 'print("t1")' });
    expect(await store.getTask('nope')).toBeNull();
  });

  it('reads a byte-capped page of a long backlog without shipping the backlog from Redis', async () => {
    const own = await RedisTaskStore.connect(redis.url, { prefix: 'big:' });
    cleanups.push(() => own.close());
    const big = 'y'.repeat(50_000);
    const events = Array.from({ length: 600 }, (_, i) => output('t-big', i + 1, big));
    await own.commit({ inserts: [task('t-big', '2026-01-02T00:00:00.000Z')], events, updates: [] });
    const raw = new Redis(redis.url);
    cleanups.push(() => raw.quit());
    const sent = async () => Number(/total_net_output_bytes:(\d+)/.exec(await raw.info('stats'))?.[1]);
    const before = await sent();
    const page = await own.readEvents('t-big', 10, 500, 120_000);
    const shipped = (await sent()) - before;
    // Stops after the event that passes 120 kB: three 50 kB events, not the 500 after the cursor (25 MB).
    expect(page.map((e) => e.seq)).toEqual([11, 12, 13]);
    expect(shipped).toBeLessThan(500_000);
    // Without a byte cap the whole tail comes back, across the driver's pages of 500.
    expect((await own.readEvents('t-big', 0)).map((e) => e.seq)).toEqual(events.map((e) => e.seq));
  });

  it('announces a commit on the change stream with small bodies inline and large ones by reference', async () => {
    const own = await RedisTaskStore.connect(redis.url, { prefix: 'bus:', origin: 'p1' });
    cleanups.push(() => own.close());
    const small = Array.from({ length: 3 }, (_, i) => output('t-bus', i + 1));
    const large = output('t-bus', 4, 'z'.repeat(BUS_INLINE_MAX + 1));
    // Inline bodies of 10 kB each until the entry's budget is spent: the rest go by reference.
    const medium = Array.from({ length: 8 }, (_, i) => output('t-bus', i + 5, 'm'.repeat(10_000)));
    const events = [...small, large, ...medium];
    await own.commit({ inserts: [task('t-bus', '2026-01-03T00:00:00.000Z')], events, updates: [] });
    const raw = new Redis(redis.url);
    cleanups.push(() => raw.quit());
    const entries = await raw.xrange('bus:bus', '-', '+');
    expect(entries).toHaveLength(1);
    const fields = entries[0]?.[1] ?? [];
    expect(fields[fields.indexOf('o') + 1]).toBe('p1');
    const e = JSON.parse(fields[fields.indexOf('e') + 1] ?? '') as Array<Record<string, unknown>>;
    expect(e.map((x) => x['seq'])).toEqual(events.map((x) => x.seq));
    expect(e.slice(0, 3)).toEqual(small);
    expect(e[3]).toEqual({ taskId: 't-bus', seq: 4, ref: true });
    const inline = e.filter((x) => !x['ref']);
    const inlineBytes = inline.reduce((n, x) => n + JSON.stringify(x).length, 0);
    expect(inlineBytes).toBeLessThanOrEqual(BUS_INLINE_BUDGET);
    expect(inline.length).toBeGreaterThan(3 + 3);
    expect(e.at(-1)).toEqual({ taskId: 't-bus', seq: 12, ref: true });
    // What a reference names is in the task's stream.
    expect((await own.readEvents('t-bus', 3, 1))[0]).toEqual(large);
  });

  it('lists newest first through the indexes, pages by cursor, filters, counts, and moves rows between indexes', async () => {
    const tasks = Array.from({ length: 30 }, (_, i) =>
      task(`l${String(i).padStart(2, '0')}`, `2026-02-01T00:00:${String(i).padStart(2, '0')}.000Z`, {
        ...(i % 3 === 0 ? { parentId: 'wf1' } : {}),
        ...(i % 2 === 0 ? { kind: 'workflow' as const } : {}),
      }),
    );
    await store.commit({ inserts: tasks, events: [], updates: [] });
    const first = await store.listTasks({ limit: 10 });
    expect(first.map((t) => t.id)).toEqual(
      tasks
        .slice(-10)
        .reverse()
        .map((t) => t.id),
    );
    const last = first.at(-1) as Task;
    const next = await store.listTasks({ limit: 5, before: { createdAt: last.createdAt, id: last.id } });
    expect(next.map((t) => t.id)).toEqual(['l19', 'l18', 'l17', 'l16', 'l15']);
    expect((await store.listTasks({ limit: 100, parentId: 'wf1' })).length).toBe(10);
    expect(
      (await store.listTasks({ limit: 100, parentId: 'wf1', kind: 'workflow' })).map((t) => t.id),
    ).toEqual(['l24', 'l18', 'l12', 'l06', 'l00']);

    // l05 runs on ext-a, then ends: it leaves the queued and ext-less views for the running, then succeeded ones.
    const l05 = { ...(tasks[5] as Task), status: 'running' as const, extensionId: 'ext-a' };
    await store.commit({ inserts: [], events: [], updates: [l05] });
    expect((await store.listTasks({ limit: 100, status: 'running' })).map((t) => t.id)).toEqual(['l05']);
    expect((await store.listTasks({ limit: 100, extensionId: 'ext-a' })).map((t) => t.id)).toEqual(['l05']);
    await store.commit({ inserts: [], events: [], updates: [{ ...l05, status: 'succeeded' }] });
    expect(await store.listTasks({ limit: 100, status: 'running' })).toEqual([]);
    expect((await store.tasksWithStatus(['queued', 'running'])).map((t) => t.id)).not.toContain('l05');
    const counts = await store.countByStatus();
    expect(counts['succeeded']).toBe(1);
    expect(counts['queued']).toBe(30);
  });

  it('trims a task stream to about SWITCHBOARD_REDIS_EVENTS_MAXLEN, newest kept', async () => {
    const trimmed = await RedisTaskStore.connect(redis.url, { prefix: 'trim:', eventsMaxlen: 100 });
    cleanups.push(() => trimmed.close());
    await trimmed.commit({ inserts: [task('big', '2026-03-01T00:00:00.000Z')], events: [], updates: [] });
    for (let i = 0; i < 10; i++)
      await trimmed.commit({
        inserts: [],
        events: Array.from({ length: 100 }, (_, j) => output('big', i * 100 + j + 1)),
        updates: [],
      });
    const kept = await trimmed.readEvents('big', 0);
    expect(kept.length).toBeGreaterThanOrEqual(100);
    expect(kept.length).toBeLessThan(1000);
    expect(kept.at(-1)?.seq).toBe(1000);
    // Still contiguous up to the newest.
    expect(kept.map((e) => e.seq)).toEqual(kept.map((_, i) => 1000 - kept.length + 1 + i));
  });
});

describe('a hub on Redis', () => {
  it('runs a task end to end, replays it by seq over SSE, and its records and events are in Redis', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const hub: TestHub = await startTestHub({ redisUrl: redis.url, redisPrefix: 'e2e:' });
    cleanups.push(() => hub.close());
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'kit' }, async (api) => {
      await api.started();
      for (let i = 0; i < 5; i++) await api.output(`out ${i}\n`);
      await api.result({ status: 'succeeded', result: 42 });
    });
    cleanups.push(() => ext.close());
    const created = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'x' });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const sse = await openSse(`${hub.url}/api/v1/tasks/${id}/events`, { token: hub.tokens.viewer });
    await sse.ended;
    const seqs = sse.events.map((e) => Number(e.id));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const done = (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;
    expect(done).toMatchObject({ status: 'succeeded', result: 42, lastSeq: seqs.length });
    // Resume from a cursor: exactly the rest.
    const resumed = await openSse(`${hub.url}/api/v1/tasks/${id}/events?afterSeq=4`, {
      token: hub.tokens.viewer,
    });
    await resumed.ended;
    expect(resumed.events.map((e) => Number(e.id))).toEqual(seqs.slice(4));
    const list = await http<{ tasks: Task[] }>(
      hub.url,
      hub.tokens.viewer,
      'GET',
      '/api/v1/tasks?status=succeeded',
    );
    expect(list.body.tasks.map((t) => t.id)).toEqual([id]);

    const raw = new Redis(redis.url);
    cleanups.push(() => raw.quit());
    expect(await raw.hget(`e2e:t:${id}`, 's')).toBe('succeeded');
    expect(await raw.xlen(`e2e:e:${id}`)).toBe(seqs.length);
    expect(await raw.zrange('e2e:i:s:succeeded', 0, -1)).toEqual([`${done.createdAt}|${id}`]);
    // A new hub process on the same Redis (another data dir) sees the finished task and its events.
    const other = await startTestHub({ redisUrl: redis.url, redisPrefix: 'e2e:' });
    cleanups.push(() => other.close());
    expect((await http<Task>(other.url, other.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body.status).toBe(
      'succeeded',
    );
  });

  it('Redis killed mid-job: clear 503 store_unavailable, no crash; restarted, the job finishes with every event kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-redis-aof-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // Durable Redis (AOF, fsync always) so a restart keeps what was acknowledged.
    const redis = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir]);
    cleanups.push(() => redis.stop());
    const hub: TestHub = await startTestHub({ redisUrl: redis.url, redisPrefix: 'down:' });
    cleanups.push(() => hub.close());
    let go = () => {};
    const gate = new Promise<void>((r) => {
      go = r;
    });
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'kit' }, async (api) => {
      await api.started();
      await api.output('before\n');
      await gate;
      await api.output('during\n');
      await api.result({ status: 'succeeded', result: 'ok' });
    });
    cleanups.push(() => ext.close());
    const id = (await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'x' })).body
      .id;
    await until(
      async () =>
        (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body.lastSeq >= 4,
      20_000,
      'the job to start and print',
    );

    redis.kill();
    await until(
      async () => (await http(hub.url, hub.tokens.viewer, 'GET', '/api/v1/tasks')).status === 503,
      20_000,
      'reads to fail',
    );
    const list = await http<{ error: { code: string; message: string } }>(
      hub.url,
      hub.tokens.viewer,
      'GET',
      '/api/v1/tasks',
    );
    expect(list.body.error.code).toBe('store_unavailable');
    expect(list.body.error.message).toMatch(/task store/);
    const refused = await http<{ error: { code: string } }>(
      hub.url,
      hub.tokens.operator,
      'POST',
      '/api/v1/tasks',
      {
        code: 'y',
      },
    );
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('store_unavailable');
    // The running job goes on; what it reports waits for the store (its result is acknowledged once stored).
    go();
    await new Promise((r) => setTimeout(r, 1_000));

    await redis.restart();
    await until(
      async () =>
        (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body.status ===
        'succeeded',
      30_000,
      'the job to finish once Redis is back',
    );
    const sse = await openSse(`${hub.url}/api/v1/tasks/${id}/events`, { token: hub.tokens.viewer });
    await sse.ended;
    const seqs = sse.events.map((e) => Number(e.id));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const texts = sse.events.flatMap((e) => {
      const d = e.data as TaskEvent;
      return d.type === 'output' ? [d.data.text] : [];
    });
    expect(texts).toEqual(['before\n', 'during\n']);
    // New work is taken again.
    expect((await http(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'z' })).status).toBe(
      201,
    );
  }, 120_000);
});
