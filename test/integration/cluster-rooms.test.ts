import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExtensionInfo, Task, TaskEvent, TaskSummary } from '../../server/protocol/index.js';
import { call, eventsUntilEnd, http, type MonitorSocket, monitorClient, until } from '../helpers/clients.js';
import { type Cluster, type HubProcess, startCluster } from '../helpers/cluster.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import { type RedisServer, startRedis } from '../helpers/redis.js';
import { type JobScript, type ScriptedExtension, scriptedExtension } from '../helpers/scripted-extension.js';
import { openSse, type SseStream } from '../helpers/sse-client.js';
import { WsClient } from '../helpers/ws-client.js';

// Three real hub processes (server/main.ts) on one real redis-server: an extension on hub 1, tasks submitted
// there, subscribers on hubs 2 and 3 over every transport.
let redis: RedisServer;
let cluster: Cluster;
let model: FakeOpenAI;
let ext: ScriptedExtension | undefined;
const closers: Array<() => void> = [];

/** 40 KB: over the change stream's inline limit, so such an event crosses it by reference (redis-scripts.ts). */
const BIG = 'y'.repeat(40_000);
const afterLine = (i: number, big: boolean) => (big && i % 3 === 0 ? `after ${i} ${BIG}\n` : `after ${i}\n`);

/**
 * A job that prints `before` lines, waits for `release()`, prints `after` lines (with `big`, every third one
 * 40 KB long) and succeeds.
 */
function gatedJob(
  before: number,
  after: number,
  big = false,
): { script: JobScript; release: () => void; printed: Promise<void> } {
  let release = () => {};
  let printed = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const firstHalf = new Promise<void>((r) => {
    printed = r;
  });
  const script: JobScript = async (api) => {
    await api.started();
    for (let i = 0; i < before; i++) await api.output(`before ${i}\n`);
    printed();
    await gate;
    for (let i = 0; i < after; i++) await api.output(afterLine(i, big));
    await api.result({ status: 'succeeded', result: { lines: before + after } });
  };
  return { script, release, printed: firstHalf };
}

async function monitor(hub: HubProcess): Promise<MonitorSocket> {
  const s = await monitorClient(hub.url, cluster.tokens.viewer);
  closers.push(() => s.disconnect());
  return s;
}

async function wsMonitor(hub: HubProcess): Promise<WsClient> {
  const c = await WsClient.open(hub.url, '/ws/monitor', cluster.tokens.viewer);
  closers.push(() => c.close());
  return c;
}

async function sse(hub: HubProcess, taskId: string, afterSeq = 0): Promise<SseStream> {
  const s = await openSse(`${hub.url}/api/v1/tasks/${taskId}/events?afterSeq=${afterSeq}`, {
    token: cluster.tokens.viewer,
  });
  closers.push(() => s.abort());
  return s;
}

function wsTaskEvents(c: WsClient, taskId: string): TaskEvent[] {
  return (c.eventsNamed('task:event') as TaskEvent[]).filter((e) => e.taskId === taskId);
}

function sseTaskEvents(s: SseStream): TaskEvent[] {
  return s.events.filter((e) => e.id !== undefined).map((e) => e.data as TaskEvent);
}

/** Every seq from `from` to `to` exactly once, in order. */
function seqs(events: readonly TaskEvent[]): number[] {
  return events.map((e) => e.seq);
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The scripted host on hub 1 (the first test connects it while feeds watch; others may run alone). */
async function hostOnHub1(script: JobScript): Promise<ScriptedExtension> {
  const hub1 = cluster.hubs[0] as HubProcess;
  ext ??= await scriptedExtension(hub1.url, cluster.tokens.extension, {
    name: 'cluster-host',
    labels: ['cluster'],
  });
  ext.script = script;
  return ext;
}

async function submit(hub: HubProcess, code: string): Promise<Task> {
  const res = await http<Task>(hub.url, cluster.tokens.operator, 'POST', '/api/v1/tasks', {
    code,
    target: { label: 'cluster' },
  });
  expect(res.status).toBe(201);
  return res.body;
}

beforeAll(async () => {
  redis = await startRedis();
  model = await startFakeOpenAI();
  cluster = await startCluster(3, redis.url, {
    SWITCHBOARD_LLM_BASE_URL: model.url,
    SWITCHBOARD_LLM_MODEL: 'fake',
  });
}, 240_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail')
    for (const [i, hub] of (cluster?.hubs ?? []).entries())
      console.log(`--- hub ${i + 1} output (tail) ---\n${hub.output().slice(-3000)}`);
});

afterAll(async () => {
  for (const close of closers.splice(0)) close();
  ext?.close();
  await cluster?.close();
  await model?.close();
  await redis?.stop();
}, 60_000);

describe('cluster: rooms, streams and feeds across hub processes', () => {
  it('presence and the summary feed reach monitors on every process; a task on hub 1 streams live to Socket.IO, raw ws and SSE on hubs 2 and 3, each event once, in order', async () => {
    const [hub1, hub2, hub3] = cluster.hubs as [HubProcess, HubProcess, HubProcess];
    // Feeds first: the extension connecting to hub 1 is seen on hubs 2 (raw ws) and 3 (Socket.IO).
    const feed3 = await monitor(hub3);
    const presence3: Array<{ extension: ExtensionInfo; online: boolean }> = [];
    const summaries3: TaskSummary[] = [];
    feed3.on('extension:presence', (p) => presence3.push(p));
    feed3.on('task:summary', (s) => summaries3.push(s));
    expect((await call(feed3, 'feed:subscribe', {})).ok).toBe(true);
    const feed2 = await wsMonitor(hub2);
    expect((await feed2.request('feed:subscribe', {})).ok).toBe(true);

    const job = gatedJob(20, 30, true);
    const host = await hostOnHub1(job.script);
    await until(
      () => presence3.some((p) => p.online && p.extension.id === host.extensionId),
      20_000,
      'presence on hub 3',
    );
    await until(
      () =>
        (feed2.eventsNamed('extension:presence') as Array<{ extension: ExtensionInfo }>).some(
          (p) => p.extension.id === host.extensionId,
        ),
      20_000,
      'presence on hub 2',
    );

    const task = await submit(hub1, 'print("cluster")');
    // Hub 3 watches from the start; hub 2 joins mid-task (replay from the store, then live).
    const io3 = await monitor(hub3);
    const io3Events = eventsUntilEnd(io3, task.id, 60_000);
    const io3All: TaskEvent[] = [];
    io3.on('task:event', (e) => io3All.push(e));
    expect((await call(io3, 'task:subscribe', { taskId: task.id })).ok).toBe(true);
    const ws3 = await wsMonitor(hub3);
    expect((await ws3.request('task:subscribe', { taskId: task.id })).ok).toBe(true);
    const sse3 = await sse(hub3, task.id);

    await job.printed;
    const io2 = await monitor(hub2);
    const io2Events = eventsUntilEnd(io2, task.id, 60_000);
    const io2All: TaskEvent[] = [];
    io2.on('task:event', (e) => io2All.push(e));
    expect((await call(io2, 'task:subscribe', { taskId: task.id })).ok).toBe(true);
    const ws2 = await wsMonitor(hub2);
    expect((await ws2.request('task:subscribe', { taskId: task.id })).ok).toBe(true);
    const sse2 = await sse(hub2, task.id);
    job.release();

    const final = await until(
      async () => {
        const t = (await http<Task>(hub2.url, cluster.tokens.viewer, 'GET', `/api/v1/tasks/${task.id}`)).body;
        return t.status === 'succeeded' && t;
      },
      60_000,
      'the task to succeed',
    );
    const all = range(1, final.lastSeq);
    // started, 50 output lines, done, the statuses: every one of them, once, everywhere.
    expect(final.lastSeq).toBeGreaterThanOrEqual(54);
    expect(seqs(await io3Events)).toEqual(all);
    expect(seqs(await io2Events)).toEqual(all);
    await Promise.all([sse2.ended, sse3.ended]);
    expect(seqs(sseTaskEvents(sse3))).toEqual(all);
    expect(seqs(sseTaskEvents(sse2))).toEqual(all);
    await until(() => wsTaskEvents(ws3, task.id).length >= all.length, 20_000, 'ws on hub 3');
    await until(() => wsTaskEvents(ws2, task.id).length >= all.length, 20_000, 'ws on hub 2');
    expect(seqs(wsTaskEvents(ws3, task.id))).toEqual(all);
    expect(seqs(wsTaskEvents(ws2, task.id))).toEqual(all);
    // Nothing came twice over Socket.IO either, also after the end (the other checks took a while).
    expect(seqs(io3All)).toEqual(all);
    expect(seqs(io2All)).toEqual(all);
    // The same events, not just the same numbers.
    const text = (events: readonly TaskEvent[]) =>
      events.flatMap((e) => (e.type === 'output' ? [e.data.text] : [])).join('');
    expect(text(await io2Events)).toBe(text(sseTaskEvents(sse3)));
    expect(text(await io2Events)).toContain('after 29\n');
    // The large ones, carried by the change stream by reference, arrive whole, in place, on both processes.
    const expected = Array.from({ length: 30 }, (_, i) => afterLine(i, true)).join('');
    expect(text(await io2Events).endsWith(expected)).toBe(true);
    expect(text(await io3Events).endsWith(expected)).toBe(true);
    expect(text(sseTaskEvents(sse2)).endsWith(expected)).toBe(true);

    // The summary feed: the task's end on both other processes, over Socket.IO and raw ws.
    await until(
      () => summaries3.some((s) => s.id === task.id && s.status === 'succeeded'),
      20_000,
      'summary on hub 3',
    );
    await until(
      () =>
        (feed2.eventsNamed('task:summary') as TaskSummary[]).some(
          (s) => s.id === task.id && s.status === 'succeeded',
        ),
      20_000,
      'summary on hub 2',
    );
    // No summary for another process's task arrives twice in a row with the same status and seq.
    const mine = summaries3.filter((s) => s.id === task.id).map((s) => `${s.status}:${s.lastSeq}`);
    expect(new Set(mine).size).toBe(mine.length);
  }, 180_000);

  it('a subscriber that leaves hub 2 mid-task and resumes from its last seq on hub 3 gets no gap and no duplicate', async () => {
    const [hub1, hub2, hub3] = cluster.hubs as [HubProcess, HubProcess, HubProcess];
    const job = gatedJob(25, 25);
    await hostOnHub1(job.script);
    const task = await submit(hub1, 'print("resume")');
    const first = await monitor(hub2);
    const got: TaskEvent[] = [];
    first.on('task:event', (e) => {
      if (e.taskId === task.id) got.push(e);
    });
    expect((await call(first, 'task:subscribe', { taskId: task.id })).ok).toBe(true);
    await job.printed;
    await until(
      () => got.some((e) => e.type === 'output' && e.data.text === 'before 24\n'),
      20_000,
      'the first half',
    );
    first.disconnect();
    const lastSeq = got.at(-1)?.seq ?? 0;
    // Events the subscriber misses while it is away.
    job.release();
    await until(
      async () =>
        (await http<Task>(hub1.url, cluster.tokens.viewer, 'GET', `/api/v1/tasks/${task.id}`)).body.lastSeq >
        lastSeq + 10,
      20_000,
      'events while away',
    );
    const second = await monitor(hub3);
    const rest = eventsUntilEnd(second, task.id, 60_000);
    expect((await call(second, 'task:subscribe', { taskId: task.id, afterSeq: lastSeq })).ok).toBe(true);
    const joined = [...got, ...(await rest)];
    expect(seqs(joined)).toEqual(range(1, joined.length));
    expect(joined.at(-1)).toMatchObject({ type: 'status', data: { status: 'succeeded' } });
  }, 120_000);

  it('a workflow run on hub 1 streams its tokens live to Socket.IO and SSE subscribers on hub 3', async () => {
    const [hub1, , hub3] = cluster.hubs as [HubProcess, HubProcess, HubProcess];
    const words = Array.from({ length: 40 }, (_, i) => `w${i} `);
    model.script({ text: words, chunkDelayMs: 5 });
    const starter = await monitorClient(hub1.url, cluster.tokens.operator);
    closers.push(() => starter.disconnect());
    const watcher = await monitor(hub3);
    const started = await call<Task>(starter, 'workflow:start', {
      workflow: 'agent_chat',
      message: 'stream across processes',
    });
    if (!started.ok) throw new Error(JSON.stringify(started.error));
    const live = eventsUntilEnd(watcher, started.data.id, 60_000);
    expect((await call(watcher, 'task:subscribe', { taskId: started.data.id })).ok).toBe(true);
    const stream = await sse(hub3, started.data.id);
    const events = await live;
    await stream.ended;
    expect(seqs(events)).toEqual(range(1, events.length));
    expect(seqs(sseTaskEvents(stream))).toEqual(seqs(events));
    const tokens = events.flatMap((e) => (e.type === 'token' ? [e.data.text] : [])).join('');
    expect(tokens).toBe(words.join(''));
    expect(events.find((e) => e.type === 'done')).toBeDefined();
  }, 120_000);

  it('Redis killed (-9) and restarted: clear errors meanwhile, no hub crashes, live delivery resumes', async () => {
    const [hub1, hub2, hub3] = cluster.hubs as [HubProcess, HubProcess, HubProcess];
    const feed = await monitor(hub3);
    const summaries: TaskSummary[] = [];
    feed.on('task:summary', (s) => summaries.push(s));
    expect((await call(feed, 'feed:subscribe', {})).ok).toBe(true);

    redis.kill();
    // A request that got in just before the hub noticed is accepted and answered once its commit lands
    // (after the restart): each try gets a few seconds, and a refusal must come.
    const refused = await until(
      async () => {
        const res = await fetch(`${hub2.url}/api/v1/tasks`, {
          method: 'POST',
          headers: { authorization: `Bearer ${cluster.tokens.operator}`, 'content-type': 'application/json' },
          body: JSON.stringify({ code: 'x' }),
          signal: AbortSignal.timeout(3_000),
        }).catch(() => null);
        return res?.status === 503 && { body: (await res.json()) as { error: { code: string } } };
      },
      30_000,
      'a refusal while Redis is down',
    );
    expect(refused.body.error.code).toBe('store_unavailable');
    await redis.restart();
    // Every process is alive and serves once Redis is back.
    for (const hub of cluster.hubs) expect(hub.proc.exitCode).toBeNull();
    for (const hub of cluster.hubs)
      await until(
        async () =>
          (await http(hub.url, cluster.tokens.viewer, 'GET', '/api/v1/tasks?limit=1')).status === 200,
        30_000,
        'every hub to read the store again',
      );
    const job = gatedJob(3, 3);
    await hostOnHub1(job.script);
    job.release();
    const task = await until(
      async () => {
        const res = await http<Task>(hub1.url, cluster.tokens.operator, 'POST', '/api/v1/tasks', {
          code: 'after the outage',
          target: { label: 'cluster' },
        });
        return res.status === 201 && res.body;
      },
      30_000,
      'a submission after the outage',
    );
    const watcher = await monitor(hub2);
    const live = eventsUntilEnd(watcher, task.id, 60_000);
    expect(await call(watcher, 'task:subscribe', { taskId: task.id })).toMatchObject({ ok: true });
    const events = await live;
    expect(seqs(events)).toEqual(range(1, events.length));
    expect(events.at(-1)).toMatchObject({ type: 'status', data: { status: 'succeeded' } });
    await until(
      () => summaries.some((s) => s.id === task.id && s.status === 'succeeded'),
      30_000,
      'the feed on hub 3',
    );
    for (const hub of [hub1, hub2, hub3]) expect(hub.proc.exitCode).toBeNull();
  }, 180_000);
});
