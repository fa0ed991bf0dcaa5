import { afterEach, describe, expect, it } from 'vitest';
import { StatsOverview, type Task } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { parseExposition, sampleValue } from '../helpers/prom-text.js';
import { type ScriptedExtension, scriptedExtension } from '../helpers/scripted-extension.js';

let hub: TestHub;
let ext: ScriptedExtension | undefined;
afterEach(async () => {
  ext?.close();
  ext = undefined;
  await hub?.close();
});

/** A host with one slot whose jobs wait until the test releases them; `fail*` code fails. */
async function gatedHost(h: TestHub) {
  const gates = new Map<string, () => void>();
  const waiting = new Map<string, Promise<void>>();
  const gate = (code: string) => {
    if (!waiting.has(code)) waiting.set(code, new Promise<void>((r) => gates.set(code, r)));
    return waiting.get(code) as Promise<void>;
  };
  const host = await scriptedExtension(
    h.url,
    h.tokens.extension,
    { name: 'gated', concurrency: 1 },
    async (api) => {
      await api.started();
      await gate(api.job.code);
      if (api.job.code.startsWith('fail'))
        await api.result({ status: 'failed', error: { message: 'ValueError: boom', type: 'ValueError' } });
      else await api.result({ status: 'succeeded', result: api.job.code });
    },
  );
  const release = (code: string) => {
    gate(code);
    gates.get(code)?.();
  };
  return { host, release };
}

/** Tasks finished in each sample's interval: its rate times the time since the sample before (`from`). */
function finishedIn(samples: ReadonlyArray<{ t: number; finishedPerSec: number }>, from: number): number[] {
  return samples.map(
    (s, i) => (s.finishedPerSec * (s.t - (i === 0 ? from : (samples[i - 1]?.t ?? from)))) / 1000,
  );
}

async function scrape(h: TestHub) {
  const res = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${h.tokens.viewer}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

async function submit(h: TestHub, code: string): Promise<Task> {
  const res = await http<Task>(h.url, h.tokens.operator, 'POST', '/api/v1/tasks', { code });
  expect(res.status).toBe(201);
  return res.body;
}

async function statusOf(h: TestHub, id: string): Promise<string> {
  return (await http<Task>(h.url, h.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body.status;
}

describe('/metrics (prom-client)', () => {
  it('exposes process metrics, task counters and durations by kind, queue depth and extension states', async () => {
    hub = await startTestHub({ statsSampleMs: 200 });
    const { host, release } = await gatedHost(hub);
    ext = host;
    const a = await submit(hub, 'one');
    const b = await submit(hub, 'fail-two');
    const c = await submit(hub, 'three');
    await until(async () => (await statusOf(hub, a.id)) === 'running', 20_000, 'first task running');

    // One slot: the first runs, two wait.
    let { samples, types } = await scrape(hub);
    expect(types.get('switchboard_task_duration_seconds')).toBe('histogram');
    expect(types.get('switchboard_tasks_started_total')).toBe('counter');
    expect(sampleValue(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sampleValue(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(sampleValue(samples, 'switchboard_queue_depth')).toBe(2);
    expect(sampleValue(samples, 'switchboard_tasks_created_total', { kind: 'code' })).toBe(3);
    expect(sampleValue(samples, 'switchboard_tasks_started_total', { kind: 'code' })).toBe(1);
    expect(sampleValue(samples, 'switchboard_tasks_active', { status: 'queued', kind: 'code' })).toBe(2);
    const id = host.extensionId;
    expect(sampleValue(samples, 'switchboard_extension_load', { extension: id })).toBe(1);
    expect(sampleValue(samples, 'switchboard_extension_slots', { extension: id })).toBe(1);
    expect(sampleValue(samples, 'switchboard_extension_state', { extension: id, state: 'busy' })).toBe(1);
    expect(sampleValue(samples, 'switchboard_extension_state', { extension: id, state: 'idle' })).toBe(0);

    for (const code of ['one', 'fail-two', 'three']) release(code);
    for (const t of [a, b, c])
      await until(
        async () => ['succeeded', 'failed'].includes(await statusOf(hub, t.id)),
        20_000,
        `${t.id} ends`,
      );
    ({ samples } = await scrape(hub));
    expect(sampleValue(samples, 'switchboard_queue_depth')).toBe(0);
    expect(sampleValue(samples, 'switchboard_tasks_started_total', { kind: 'code' })).toBe(3);
    expect(
      sampleValue(samples, 'switchboard_tasks_finished_total', { kind: 'code', status: 'succeeded' }),
    ).toBe(2);
    expect(sampleValue(samples, 'switchboard_tasks_finished_total', { kind: 'code', status: 'failed' })).toBe(
      1,
    );
    expect(sampleValue(samples, 'switchboard_tasks_failed_total', { kind: 'code' })).toBe(1);
    expect(sampleValue(samples, 'switchboard_tasks', { status: 'succeeded' })).toBe(2);
    const count = { kind: 'code', status: 'succeeded' };
    expect(sampleValue(samples, 'switchboard_task_duration_seconds_count', count)).toBe(2);
    expect(sampleValue(samples, 'switchboard_task_duration_seconds_bucket', { ...count, le: '+Inf' })).toBe(
      2,
    );
    // Cumulative buckets never decrease.
    const buckets = samples.filter(
      (s) => s.name === 'switchboard_task_duration_seconds_bucket' && s.labels['status'] === 'succeeded',
    );
    expect(buckets.length).toBeGreaterThan(5);
    for (let i = 1; i < buckets.length; i++)
      expect(buckets[i]?.value).toBeGreaterThanOrEqual(buckets[i - 1]?.value ?? 0);
    expect(sampleValue(samples, 'switchboard_extension_state', { extension: id, state: 'idle' })).toBe(1);

    // A host that leaves stays listed as offline (for the overview window), with no slots.
    host.close();
    await until(
      async () => {
        const s = (await scrape(hub)).samples;
        return sampleValue(s, 'switchboard_extension_state', { extension: id, state: 'offline' }) === 1;
      },
      20_000,
      'host offline',
    );
    ({ samples } = await scrape(hub));
    expect(sampleValue(samples, 'switchboard_extension_slots', { extension: id })).toBe(0);
    expect(sampleValue(samples, 'switchboard_extensions_online')).toBe(0);
  });

  it('keeps the viewer-token rule', async () => {
    hub = await startTestHub();
    expect((await fetch(`${hub.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${hub.url}/metrics`, {
      headers: { authorization: 'Bearer nope-nope-nope-nope' },
    });
    expect(wrong.status).toBe(401);
  });
});

describe('GET /api/v1/stats/overview', () => {
  it('samples queue depth, throughput, failure rate, durations and extension load while tasks run', async () => {
    hub = await startTestHub({ statsSampleMs: 200 });
    const { host, release } = await gatedHost(hub);
    ext = host;
    const get = async (q = '') => {
      const res = await http<unknown>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/stats/overview${q}`);
      expect(res.status).toBe(200);
      return StatsOverview.parse(res.body);
    };
    const first = await get();
    expect(first.sampleMs).toBe(200);
    expect(first.windowMs).toBe(15 * 60_000);

    const tasks = [await submit(hub, 'a'), await submit(hub, 'fail-b'), await submit(hub, 'c')];
    const queued = await until(
      async () => (await get()).samples.find((s) => s.queueDepth === 2),
      20_000,
      'queue 2',
    );
    const ext1 = queued.extensions.find((e) => e.id === host.extensionId);
    expect(ext1).toMatchObject({ name: 'gated', running: 1, slots: 1, state: 'busy' });
    // Queued and running are counted apart: one holds the slot, two wait.
    expect(queued.queued).toBe(2);
    expect(queued.running).toBe(1);

    for (const code of ['a', 'fail-b', 'c']) release(code);
    for (const t of tasks)
      await until(
        async () => ['succeeded', 'failed'].includes(await statusOf(hub, t.id)),
        20_000,
        'task ends',
      );
    const after = await until(
      async () => {
        const o = await get(`?since=${queued.t}`);
        // Every finish has been sampled once the totals add up (rate × the real interval of each sample).
        const done = finishedIn(o.samples, queued.t).reduce((n, c) => n + c, 0);
        return o.samples.every((s) => s.t > queued.t) && done > 2.5 && o.samples.at(-1)?.queueDepth === 0
          ? o
          : null;
      },
      20_000,
      'finishes sampled',
    );
    const withFinishes = after.samples.filter((s) => s.finishedPerSec > 0);
    expect(withFinishes.length).toBeGreaterThan(0);
    for (const s of withFinishes) {
      expect(s.p50Ms).not.toBeNull();
      expect(s.p99Ms ?? -1).toBeGreaterThanOrEqual(s.p50Ms ?? 0);
      expect(s.failureRate).not.toBeNull();
    }
    // One of three failed: across the samples, failures are a third of finishes.
    const counts = finishedIn(after.samples, queued.t);
    const failures = after.samples.reduce((n, s, i) => n + (s.failureRate ?? 0) * (counts[i] ?? 0), 0);
    const finishes = counts.reduce((n, c) => n + c, 0);
    expect(failures / finishes).toBeCloseTo(1 / 3, 1);
    expect(after.samples.some((s) => s.startedPerSec > 0)).toBe(true);
    expect(after.samples.at(-1)?.extensions.find((e) => e.id === host.extensionId)?.state).toBe('idle');
  });

  it('names a bad query field and needs a token', async () => {
    hub = await startTestHub();
    const bad = await http<{ error: { message: string } }>(
      hub.url,
      hub.tokens.viewer,
      'GET',
      '/api/v1/stats/overview?since=yesterday',
    );
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('since');
    expect((await http(hub.url, null, 'GET', '/api/v1/stats/overview')).status).toBe(401);
    const spec = await http<{ paths: Record<string, unknown> }>(hub.url, null, 'GET', '/openapi.json');
    expect(Object.keys(spec.body.paths)).toContain('/api/v1/stats/overview');
  });
});
