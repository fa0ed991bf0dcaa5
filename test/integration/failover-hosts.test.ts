import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ReferenceHost } from '../../extension-bridge/host/index.js';
import type { ExtensionInfo, Task, TaskEvent } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import type { TestHub } from '../helpers/hub.js';
import { deadUrl, startHubGroup } from '../helpers/hub-group.js';
import { spawnPythonBridge, stopAllBridges, waitForExtension, waitForLog } from '../helpers/python-bridge.js';
import { type RedisServer, startRedis } from '../helpers/redis.js';
import { openSse } from '../helpers/sse-client.js';

const TERMINAL = ['succeeded', 'failed', 'cancelled', 'timed_out'];

async function runOn(hub: TestHub, extensionId: string, code: string): Promise<Task> {
  const created = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
    code,
    target: { extensionId },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return until(
    async () => {
      const t = (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${created.body.id}`))
        .body;
      return TERMINAL.includes(t.status) && t;
    },
    30_000,
    `task ${created.body.id} to end on ${hub.url}`,
  );
}

async function extensionsOf(hub: TestHub): Promise<ExtensionInfo[]> {
  return (await http<ExtensionInfo[]>(hub.url, hub.tokens.viewer, 'GET', '/api/v1/extensions')).body;
}

/**
 * Hosts given several hub URLs (processes of one hub on one Redis): when their hub goes they move to the
 * next, register there under the same id (same host secret), and take jobs from it.
 */
describe('extension hosts over several hub processes', () => {
  let redis: RedisServer;
  let hubs: TestHub[] = [];
  let host: ReferenceHost | undefined;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await host?.stop();
    host = undefined;
    await stopAllBridges();
    for (const h of hubs) await h.close();
    hubs = [];
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('the reference host moves to hub B when hub A stops, as the same host, and runs B’s jobs', async () => {
    hubs = await startHubGroup(2, redis.url);
    const [a, b] = hubs as [TestHub, TestHub];
    const dead = await deadUrl();
    host = new ReferenceHost({
      url: [dead, a.url, b.url],
      token: a.tokens.extension,
      name: 'ref-failover',
      startTimeoutMs: 30_000,
    });
    const states: string[] = [];
    host.on('connection', (state, detail) => states.push(`${state} ${detail}`));
    const registered = await host.start();
    expect(host.hubUrl).toBe(a.url);
    const id = registered.extensionId;
    expect((await extensionsOf(a)).find((e) => e.id === id)?.online).toBe(true);
    expect(await runOn(a, id, '6 * 7')).toMatchObject({ status: 'succeeded', result: 42 });

    let again = false;
    host.on('registered', (r, reconnect) => {
      if (r.extensionId === id && reconnect) again = true;
    });
    await a.stop();
    // Hub B lists the cluster's hosts (hub A's too, until A withdraws them): wait for the re-registration.
    const onB = await until(
      async () => again && (await extensionsOf(b)).find((e) => e.id === id && e.online),
      30_000,
      'the host to register on hub B',
    );
    expect(onB).toMatchObject({ name: 'ref-failover', id });
    expect(again).toBe(true);
    expect(host.hubUrl).toBe(b.url);
    expect(states).toContain(`connected ${b.url}`);
    expect(await runOn(b, id, 'print("on b")\n"b"')).toMatchObject({ status: 'succeeded', result: 'b' });
  }, 90_000);

  it('the Python bridge (headless) moves to hub B when hub A stops and registers under the same id', async () => {
    hubs = await startHubGroup(2, redis.url);
    const [a, b] = hubs as [TestHub, TestHub];
    const bridge = spawnPythonBridge(`${a.url},${b.url}`, a.tokens.extension, { name: 'py-failover' });
    const onA = await waitForExtension(a.url, a.tokens.viewer, 'py-failover', 30_000);
    expect(await runOn(a, onA.id, '1 + 1')).toMatchObject({ status: 'succeeded', result: 2 });

    await a.stop();
    const onB = await waitForExtension(b.url, b.tokens.viewer, 'py-failover', 30_000);
    expect(onB.id).toBe(onA.id);
    await waitForLog(bridge, new RegExp(`re-registered as ${onA.id} on ${b.url.replace(/\./g, '\\.')}`));
    expect(await runOn(b, onB.id, 'print("on b")\n"b"')).toMatchObject({ status: 'succeeded', result: 'b' });
  }, 90_000);

  it('a job running when its hub stops carries on: its output and result reach the task through hub B', async () => {
    hubs = await startHubGroup(2, redis.url);
    const [a, b] = hubs as [TestHub, TestHub];
    host = new ReferenceHost({
      url: [a.url, b.url],
      token: a.tokens.extension,
      name: 'ref-carry',
      startTimeoutMs: 30_000,
    });
    const { extensionId: id } = await host.start();
    const created = await http<Task>(a.url, a.tokens.operator, 'POST', '/api/v1/tasks', {
      code: 'import time\nprint("before", flush=True)\ntime.sleep(3)\nprint("after")\n"carried"',
      target: { extensionId: id },
      retries: 0,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const taskId = created.body.id;
    await until(
      async () =>
        (await http<Task>(b.url, b.tokens.viewer, 'GET', `/api/v1/tasks/${taskId}`)).body.status ===
        'running',
      30_000,
      'the job to run on the host',
    );
    await a.stop();
    const done = await until(
      async () => {
        const t = (await http<Task>(b.url, b.tokens.viewer, 'GET', `/api/v1/tasks/${taskId}`)).body;
        return TERMINAL.includes(t.status) && t;
      },
      45_000,
      'the task to end through hub B',
    );
    expect(done).toMatchObject({ status: 'succeeded', result: 'carried', attempts: 1, extensionId: id });
    const sse = await openSse(`${b.url}/api/v1/tasks/${taskId}/events`, { token: b.tokens.viewer });
    await sse.ended;
    const events = sse.events.map((e) => e.data as TaskEvent);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const out = events.flatMap((e) => (e.type === 'output' ? [e.data.text] : [])).join('');
    expect(out).toBe('before\nafter\n');
    expect(
      events.filter((e) => e.type === 'status').map((e) => (e.data as { status: string }).status),
    ).toEqual(['queued', 'dispatched', 'running', 'succeeded']);
  }, 120_000);
});
