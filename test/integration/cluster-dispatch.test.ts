import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExtensionInfo, Task, TaskEvent } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { type Cluster, type HubProcess, startCluster } from '../helpers/cluster.js';
import { type RedisServer, startRedis } from '../helpers/redis.js';
import {
  codeDrivenScript,
  echoScript,
  type JobScript,
  ScriptedExtension,
  scriptedExtension,
} from '../helpers/scripted-extension.js';
import { openSse } from '../helpers/sse-client.js';

// Three real hub processes (server/main.ts) on one real redis-server: code tasks are dispatched across
// processes, cancel reaches the job wherever it runs, and a killed process's tasks are adopted by another.
let redis: RedisServer;
let cluster: Cluster;
const exts: ScriptedExtension[] = [];

beforeAll(async () => {
  redis = await startRedis();
  cluster = await startCluster(3, redis.url);
}, 400_000);

afterAll(async () => {
  for (const e of exts.splice(0)) e.close();
  await cluster?.close();
  await redis?.stop();
}, 60_000);

const hub = (i: number): HubProcess => cluster.hubs[i] as HubProcess;
const ENDED = ['succeeded', 'failed', 'cancelled', 'timed_out'];

async function ext(
  on: HubProcess,
  name: string,
  opts: { labels?: string[]; concurrency?: number; script?: JobScript } = {},
) {
  const e = await scriptedExtension(
    on.url,
    cluster.tokens.extension,
    { name, labels: opts.labels ?? [], concurrency: opts.concurrency ?? 1 },
    opts.script ?? codeDrivenScript,
  );
  exts.push(e);
  return e;
}

async function submit(on: HubProcess, body: Record<string, unknown>): Promise<Task> {
  const res = await http<Task>(on.url, cluster.tokens.operator, 'POST', '/api/v1/tasks', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function taskOn(on: HubProcess, id: string): Promise<Task> {
  const res = await http<Task>(on.url, cluster.tokens.viewer, 'GET', `/api/v1/tasks/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function statusOn(on: HubProcess, id: string, want: (s: string) => boolean, timeoutMs = 30_000) {
  return until(
    async () => {
      const t = await taskOn(on, id);
      return want(t.status) && t;
    },
    timeoutMs,
    `task ${id} on ${on.url}`,
  );
}

/** Every event of an ended task, replayed from the store by the given process (SSE ends at the end). */
async function eventsOn(on: HubProcess, id: string): Promise<TaskEvent[]> {
  const sse = await openSse(`${on.url}/api/v1/tasks/${id}/events`, { token: cluster.tokens.viewer });
  await sse.ended;
  return sse.events.map((e) => e.data as TaskEvent);
}

function expectSeqContinuous(events: TaskEvent[]): void {
  expect(events.length).toBeGreaterThan(0);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
}

const statuses = (events: TaskEvent[]) =>
  events.flatMap((e) => (e.type === 'status' ? [`${e.data.status}:${e.data.reason}`] : []));

async function listed(on: HubProcess, id: string) {
  return until(
    async () => {
      const res = await http<ExtensionInfo[]>(on.url, cluster.tokens.viewer, 'GET', '/api/v1/extensions');
      return res.body.find((x) => x.id === id);
    },
    20_000,
    `extension ${id} listed by ${on.url}`,
  );
}

describe('cluster dispatch: three hub processes on one Redis', () => {
  it('runs a task submitted on hub 2 on an extension of hub 1, seen from hub 3, seq-continuous', async () => {
    const e = await ext(hub(0), 'kit-one', { labels: ['one'] });
    // The shared registry: every process lists the extension.
    for (const h of [hub(1), hub(2)]) expect((await listed(h, e.extensionId)).labels).toEqual(['one']);
    const task = await submit(hub(1), { code: 'emit(3)', target: { label: 'one' } });
    const done = await statusOn(hub(2), task.id, (s) => ENDED.includes(s));
    expect(done.status).toBe('succeeded');
    expect(done.result).toEqual({ chunks: 3 });
    expect(done.extensionId).toBe(e.extensionId);
    expect(e.jobs.map((j) => j.taskId)).toEqual([task.id]);
    for (const h of [hub(0), hub(1), hub(2)]) {
      const events = await eventsOn(h, task.id);
      expectSeqContinuous(events);
      expect(statuses(events)).toEqual([
        'queued:submitted',
        'dispatched:dispatched',
        'running:started',
        'succeeded:completed',
      ]);
      expect(events.filter((x) => x.type === 'output').map((x) => (x.data as { text: string }).text)).toEqual(
        ['chunk 0\n', 'chunk 1\n', 'chunk 2\n'],
      );
    }
  });

  it('cancels from hub 3 a job running on hub 1 and a task waiting on hub 2', async () => {
    const e = await ext(hub(0), 'kit-cancel', { labels: ['cancel'] });
    await listed(hub(1), e.extensionId);
    const running = await submit(hub(1), { code: 'hang()', target: { label: 'cancel' } });
    await statusOn(hub(2), running.id, (s) => s === 'running');
    // The one slot is taken: the next task waits on hub 2, and says why (the cluster's hosts, not hub 2's).
    const waiting = await submit(hub(1), { code: 'print(2)', target: { label: 'cancel' } });
    await until(
      async () => {
        const t = await taskOn(hub(2), waiting.id);
        return t.status === 'queued' && t.lastSeq >= 2;
      },
      20_000,
      'waiting note stored',
    );
    const cancelWaiting = await http<Task>(
      hub(2).url,
      cluster.tokens.operator,
      'POST',
      `/api/v1/tasks/${waiting.id}/cancel`,
    );
    expect(cancelWaiting.status, JSON.stringify(cancelWaiting.body)).toBe(200);
    expect(cancelWaiting.body.status).toBe('cancelled');

    const cancel = await http<Task>(
      hub(2).url,
      cluster.tokens.operator,
      'POST',
      `/api/v1/tasks/${running.id}/cancel`,
    );
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    expect(cancel.body.status).toBe('cancelled');
    // The job on hub 1's extension was told to stop.
    await until(() => e.cancels.some((c) => c.taskId === running.id && c.reason === 'cancelled'), 20_000);
    // Cancelling again, from anywhere: already ended.
    const again = await http<{ error: { code: string } }>(
      hub(0).url,
      cluster.tokens.operator,
      'POST',
      `/api/v1/tasks/${running.id}/cancel`,
    );
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('task_finished');

    const waited = await eventsOn(hub(0), waiting.id);
    expectSeqContinuous(waited);
    const note = waited.find((x) => x.type === 'log');
    expect((note?.data as { message?: string } | undefined)?.message).toBe(
      `waiting: the one extension with the label cancel is busy`,
    );
    expect(statuses(waited)).toEqual(['queued:submitted', 'cancelled:cancelled']);
    const ran = await eventsOn(hub(1), running.id);
    expectSeqContinuous(ran);
    expect(statuses(ran)).toEqual([
      'queued:submitted',
      'dispatched:dispatched',
      'running:started',
      'cancelled:cancelled',
    ]);
  });

  it('times out a job submitted on hub 2 and running on hub 1 from its own deadline', async () => {
    const e = await ext(hub(0), 'kit-slow', { labels: ['slow'] });
    await listed(hub(1), e.extensionId);
    const task = await submit(hub(1), { code: 'hang()', target: { label: 'slow' }, timeoutMs: 1_500 });
    const ended = await statusOn(hub(2), task.id, (s) => ENDED.includes(s));
    expect(ended.status).toBe('timed_out');
    expect(ended.error?.message).toBe('the task ran past its timeout of 1.5s');
    await until(() => e.cancels.some((c) => c.taskId === task.id && c.reason === 'timed_out'), 20_000);
    const events = await eventsOn(hub(2), task.id);
    expectSeqContinuous(events);
    expect(statuses(events).at(-1)).toBe('timed_out:timed_out');
  });

  it('adopts the tasks of a hub killed mid-job: carried on by a host that reconnects, retried elsewhere, or failed per the retry budget', async () => {
    const doomed = await ext(hub(0), 'kit-doomed', { labels: ['kill'], concurrency: 2 });
    await listed(hub(1), doomed.extensionId);
    const retried = await submit(hub(1), { code: 'hang()', target: { label: 'kill' }, retries: 1 });
    const spent = await submit(hub(1), { code: 'hang()', target: { label: 'kill' }, retries: 0 });
    // A host that will reconnect to hub 2 and carry on its job there.
    const mover = await ext(hub(0), 'kit-mover', {
      labels: ['move'],
      script: async (api) => {
        await api.started();
        await api.output('before\n');
      },
    });
    await listed(hub(1), mover.extensionId);
    const carried = await submit(hub(1), { code: 'carry on', target: { label: 'move' }, retries: 0 });
    for (const t of [retried, spent, carried]) await statusOn(hub(2), t.id, (s) => s === 'running');
    await until(async () => (await taskOn(hub(2), carried.id)).lastSeq >= 4, 20_000, 'output stored');
    const survivor = await ext(hub(2), 'kit-survivor', { labels: ['kill'], script: echoScript });
    const killedAt = Date.now();
    await hub(0).kill();

    // The mover reconnects to hub 2 still running its job, and finishes it there.
    const back = new ScriptedExtension(hub(1).url, cluster.tokens.extension, {
      name: 'kit-mover',
      labels: ['move'],
      concurrency: 1,
      running: [carried.id],
    });
    exts.push(back);
    expect((await back.start()).extensionId).toBe(mover.extensionId);
    const report = async (event: 'job:output' | 'job:result', body: Record<string, unknown>) => {
      const res = (await back.socket
        .timeout(10_000)
        .emitWithAck(event as 'job:output', { taskId: carried.id, ...body } as never)) as { ok: boolean };
      expect(res.ok, JSON.stringify(res)).toBe(true);
    };
    await report('job:output', { stream: 'stdout', text: 'after\n' });
    await report('job:result', { status: 'succeeded', result: 'carried on' });
    const carriedDone = await statusOn(hub(2), carried.id, (s) => ENDED.includes(s));
    expect(carriedDone).toMatchObject({
      status: 'succeeded',
      result: 'carried on',
      attempts: 1,
      extensionId: mover.extensionId,
    });
    expect(back.cancels).toEqual([]);
    const carriedEvents = await eventsOn(hub(2), carried.id);
    expectSeqContinuous(carriedEvents);
    expect(statuses(carriedEvents)).toEqual([
      'queued:submitted',
      'dispatched:dispatched',
      'running:started',
      'succeeded:completed',
    ]);
    expect(
      carriedEvents.filter((x) => x.type === 'output').map((x) => (x.data as { text: string }).text),
    ).toEqual(['before\n', 'after\n']);

    const failed = await statusOn(hub(1), spent.id, (s) => ENDED.includes(s));
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('hub_restarted');
    // Within a few seconds of the lease (5 s by default) running out.
    expect(Date.now() - killedAt).toBeLessThan(20_000);

    const done = await statusOn(hub(1), retried.id, (s) => ENDED.includes(s));
    expect(done.status).toBe('succeeded');
    expect(done.result).toEqual({ echo: 'hang()' });
    expect(done.attempts).toBe(2);
    expect(done.extensionId).toBe(survivor.extensionId);
    expect(survivor.jobs.map((j) => [j.taskId, j.attempt])).toEqual([[retried.id, 2]]);

    const events = await eventsOn(hub(2), retried.id);
    expectSeqContinuous(events);
    expect(statuses(events)).toEqual([
      'queued:submitted',
      'dispatched:dispatched',
      'running:started',
      'queued:hub_restarted',
      'dispatched:dispatched',
      'running:started',
      'succeeded:completed',
    ]);
    const failedEvents = await eventsOn(hub(1), spent.id);
    expectSeqContinuous(failedEvents);
    expect(statuses(failedEvents).at(-1)).toBe('failed:hub_restarted');
    // The dead process's extension is gone from every list.
    await until(async () => {
      const res = await http<ExtensionInfo[]>(hub(1).url, cluster.tokens.viewer, 'GET', '/api/v1/extensions');
      return !res.body.some((x) => x.id === doomed.extensionId);
    }, 20_000);
  }, 120_000);
});
