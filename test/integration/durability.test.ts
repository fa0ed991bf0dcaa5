import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Task, TaskEvent } from '../../server/protocol/index.js';
import { call, eventsUntilEnd, http, monitorClient, until } from '../helpers/clients.js';
import { type HubProcess, spawnHubProcess } from '../helpers/cluster.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { type ScriptedExtension, scriptedExtension } from '../helpers/scripted-extension.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** The real entry point in a child process, so it can be killed with SIGKILL mid-work. */
async function spawnHub(dataDir: string): Promise<HubProcess> {
  const hub = await spawnHubProcess(
    // On the Redis project: the key prefix startTestHub gives this data dir, so the restarted hub finds it.
    { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_REDIS_PREFIX: `sb:${basename(dataDir)}:` },
    120_000,
  );
  cleanups.push(() => hub.kill());
  return hub;
}

describe('durability', () => {
  // Two cold starts of the real entry point (tsx compiling the server) take minutes on a loaded 2-core machine.
  it('survives SIGKILL: every task answers, every event replays, running jobs fail or re-queue', {
    timeout: 300_000,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-durable-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const first = await spawnHub(dataDir);
    const tokens = (await import(join(dataDir, 'tokens.json'), { with: { type: 'json' } }))
      .default as TestHub['tokens'];

    const ext: ScriptedExtension = await scriptedExtension(
      first.url,
      tokens.extension,
      { name: 'kit-1', concurrency: 2 },
      async (api) => {
        await api.started();
        await api.output(`out ${api.job.code}\n`);
        if (api.job.code.startsWith('hang')) return; // keeps running until the hub dies
        await api.result({ status: 'succeeded', result: api.job.code });
      },
    );
    ext.socket.io.opts.reconnection = false;
    const viewer = await monitorClient(first.url, tokens.viewer);
    const submit = async (body: object) =>
      (await http<Task>(first.url, tokens.operator, 'POST', '/api/v1/tasks', body)).body;

    const finished = await submit({ code: 'done' });
    const liveFinished = eventsUntilEnd(viewer, finished.id);
    await call(viewer, 'task:subscribe', { taskId: finished.id });
    const seenBefore = await liveFinished;

    const hangNoRetry = await submit({ code: 'hang-0', retries: 0 });
    await until(
      async () =>
        (await http<Task>(first.url, tokens.viewer, 'GET', `/api/v1/tasks/${hangNoRetry.id}`)).body.status ===
        'running',
    );
    const hangRetry = await submit({ code: 'hang-1', retries: 2 });
    await until(
      async () =>
        (await http<Task>(first.url, tokens.viewer, 'GET', `/api/v1/tasks/${hangRetry.id}`)).body.status ===
        'running',
    );
    const queued = await submit({ code: 'later', target: { label: 'later' } });
    viewer.close();

    await first.kill();
    ext.close();

    const hub = await startTestHub({ dataDir });
    cleanups.push(() => hub.stop());
    expect(hub.tokens).toEqual(tokens);

    const again = await monitorClient(hub.url, tokens.viewer);
    cleanups.push(() => again.close());
    const replay = eventsUntilEnd(again, finished.id);
    await call(again, 'task:subscribe', { taskId: finished.id });
    expect(await replay).toEqual(seenBefore);

    const failed = (await http<Task>(hub.url, tokens.viewer, 'GET', `/api/v1/tasks/${hangNoRetry.id}`)).body;
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('hub_restarted');
    expect(failed.error?.message).toMatch(/hub restarted/);

    const requeued = (await http<Task>(hub.url, tokens.viewer, 'GET', `/api/v1/tasks/${hangRetry.id}`)).body;
    expect(requeued.status).toBe('queued');

    const late = await scriptedExtension(hub.url, tokens.extension, {
      name: 'kit-late',
      labels: ['later', 'busy'],
      concurrency: 2,
    });
    cleanups.push(() => late.close());
    for (const id of [queued.id, hangRetry.id]) {
      const done = await until(async () => {
        const t = (await http<Task>(hub.url, tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;
        return t.status === 'succeeded' && t;
      });
      expect(done.extensionId).toBe(late.extensionId);
    }
  });

  it('replays from a seq after a forced disconnect with no gap and no duplicate', async () => {
    const hub = await startTestHub();
    cleanups.push(() => hub.close());
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'kit' }, async (api) => {
      await api.started();
      for (let i = 0; i < 5; i++) await api.output(`before ${i}\n`);
      await gate;
      for (let i = 0; i < 5; i++) await api.output(`after ${i}\n`);
      await api.result({ status: 'succeeded', result: 'ok' });
    });
    cleanups.push(() => ext.close());

    const watcher = await monitorClient(hub.url, hub.tokens.viewer);
    const seen: TaskEvent[] = [];
    watcher.on('task:event', (e) => seen.push(e));
    const task = (await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'stream' }))
      .body;
    await call(watcher, 'task:subscribe', { taskId: task.id });
    await until(() => seen.filter((e) => e.type === 'output').length === 5);
    // Drop the transport under the client, as a network failure would.
    watcher.io.engine.close();
    await until(() => !watcher.connected);
    release();
    await until(
      async () =>
        (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${task.id}`)).body.status ===
        'succeeded',
    );

    const resumed = await monitorClient(hub.url, hub.tokens.viewer);
    cleanups.push(() => resumed.close());
    const lastSeq = seen.at(-1)?.seq ?? 0;
    const rest = eventsUntilEnd(resumed, task.id);
    await call(resumed, 'task:subscribe', { taskId: task.id, afterSeq: lastSeq });
    const all = [...seen, ...(await rest)];
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    expect(all.filter((e) => e.type === 'output').map((e) => e.type === 'output' && e.data.text)).toEqual([
      ...[0, 1, 2, 3, 4].map((i) => `before ${i}\n`),
      ...[0, 1, 2, 3, 4].map((i) => `after ${i}\n`),
    ]);
    watcher.close();
  });

  it('resumes an SSE stream with Last-Event-ID', async () => {
    const hub = await startTestHub();
    cleanups.push(() => hub.close());
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'kit' });
    cleanups.push(() => ext.close());
    const task = (await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'sse' }))
      .body;
    await until(
      async () =>
        (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${task.id}`)).body.status ===
        'succeeded',
    );
    const full = await fetch(`${hub.url}/api/v1/tasks/${task.id}/events`, {
      headers: { authorization: `Bearer ${hub.tokens.viewer}` },
    });
    expect(full.headers.get('content-type')).toMatch(/text\/event-stream/);
    const ids = [...(await full.text()).matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual([1, 2, 3, 4, 5, 6]);
    const tail = await fetch(`${hub.url}/api/v1/tasks/${task.id}/events`, {
      headers: { authorization: `Bearer ${hub.tokens.viewer}`, 'last-event-id': '4' },
    });
    const text = await tail.text();
    expect([...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual([5, 6]);
    expect(text).toMatch(/event: done\ndata: \{.*"type":"done"/);
  });
});
