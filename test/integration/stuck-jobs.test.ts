import { afterEach, describe, expect, it } from 'vitest';
import { ReferenceHost } from '../../extension-bridge/host/host.js';
import type { ExtensionInfo, Task, TaskSummary } from '../../server/protocol/index.js';
import { isTerminal } from '../../server/protocol/index.js';
import { http, type MonitorSocket, monitorClient, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { startPythonBridge, stopAllBridges } from '../helpers/python-bridge.js';
import { type ScriptedExtension, scriptedExtension } from '../helpers/scripted-extension.js';

/**
 * A job that will not stop (blocked in a call the interrupt cannot reach, or a process that outlives its
 * SIGTERM) keeps its host's slot busy: the host reports it stuck, the hub shows the host as stuck and sends
 * it nothing until the host confirms the job ended. The hub's cancel grace period is short on purpose: it
 * must not free the slot by itself.
 */

let hub: TestHub | undefined;
let socket: MonitorSocket | undefined;
const hosts: ReferenceHost[] = [];
const scripted: ScriptedExtension[] = [];
afterEach(async () => {
  for (const ext of scripted.splice(0)) ext.close();
  socket?.close();
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
  await stopAllBridges();
  await hub?.close();
  hub = undefined;
});

type Seen = { kind: 'presence'; ext: ExtensionInfo } | { kind: 'summary'; task: TaskSummary };

/** Everything the feed says, in the order the hub sent it (one socket, so one order). */
async function watchFeed(h: TestHub): Promise<Seen[]> {
  const seen: Seen[] = [];
  socket = await monitorClient(h.url, h.tokens.viewer);
  socket.on('extension:presence', ({ extension }) => seen.push({ kind: 'presence', ext: extension }));
  socket.on('task:summary', (task) => seen.push({ kind: 'summary', task }));
  await socket.timeout(5_000).emitWithAck('feed:subscribe', {});
  return seen;
}

async function submit(h: TestHub, code: string, timeoutMs: number): Promise<Task> {
  const res = await http<Task>(h.url, h.tokens.operator, 'POST', '/api/v1/tasks', { code, timeoutMs });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function extension(h: TestHub, name: string): Promise<ExtensionInfo | undefined> {
  const res = await http<ExtensionInfo[]>(h.url, h.tokens.viewer, 'GET', '/api/v1/extensions');
  return res.body.find((e) => e.name === name);
}

async function task(h: TestHub, id: string): Promise<Task> {
  return (await http<Task>(h.url, h.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;
}

/**
 * The common story: the blocking job times out, the host shows stuck, a second job waits in the queue and
 * is dispatched only after the feed showed the slot freed; the blocking job's late result changes nothing.
 */
async function expectStuckThenFreed(h: TestHub, name: string, blocking: string, waitMs: number) {
  const seen = await watchFeed(h);
  const a = await submit(h, blocking, 2_000);
  await until(async () => (await task(h, a.id)).status === 'running', 15_000, 'the blocking job to run');
  const stuck = await until(
    async () => {
      const e = await extension(h, name);
      return e?.state === 'stuck' && e;
    },
    waitMs,
    `${name} to be shown stuck`,
  );
  expect(stuck.stuck).toEqual([a.id]);
  expect(stuck.running).toEqual([a.id]);
  expect((await task(h, a.id)).status).toBe('timed_out');

  const b = await submit(h, '1 + 1', 60_000);
  // Still stuck a while later: the hub's 1 s cancel grace period is long over, nothing was sent to the host.
  await new Promise((r) => setTimeout(r, 1_500));
  expect((await task(h, b.id)).status).toBe('queued');

  const done = await until(
    async () => {
      const t = await task(h, b.id);
      return isTerminal(t.status) && t;
    },
    waitMs + 30_000,
    'the second job to run once the slot is free',
  );
  expect(done).toMatchObject({ status: 'succeeded', result: 2 });
  const late = await task(h, a.id);
  expect(late.status).toBe('timed_out'); // the blocking job's late report was dropped
  expect(late.result ?? null).toBeNull();

  // In the order the hub sent them: b was dispatched only after a presence with the slot free and no stuck.
  const dispatchedAt = seen.findIndex(
    (s) => s.kind === 'summary' && s.task.id === b.id && s.task.status === 'dispatched',
  );
  const stuckAt = seen.findIndex((s) => s.kind === 'presence' && s.ext.state === 'stuck');
  const freedAt = seen.findIndex(
    (s, i) => i > stuckAt && s.kind === 'presence' && s.ext.name === name && s.ext.running.length === 0,
  );
  expect(stuckAt).toBeGreaterThanOrEqual(0);
  expect(freedAt).toBeGreaterThan(stuckAt);
  expect(dispatchedAt).toBeGreaterThan(freedAt);
  const after = await extension(h, name);
  expect(after?.state).toBe('ready');
  expect(after?.stuck).toEqual([]);
}

describe('a job that will not stop', () => {
  it('Python bridge: time.sleep past the timeout shows the host stuck until the call returns', async () => {
    hub = await startTestHub({ cancelGraceMs: 1_000 });
    await startPythonBridge(hub, { name: 'stuck-py' });
    await expectStuckThenFreed(hub, 'stuck-py', 'import time\ntime.sleep(12)\n"late"', 20_000);
  }, 90_000);

  it('Kit extension under the stand-in: a sleep on the main loop shows the host stuck until it returns', async () => {
    hub = await startTestHub({ cancelGraceMs: 1_000 });
    await startPythonBridge(hub, { name: 'stuck-kit', mode: 'kit' });
    await expectStuckThenFreed(hub, 'stuck-kit', 'import time\ntime.sleep(12)\n"late"', 20_000);
  }, 90_000);

  it('reference host: a process that ignores SIGTERM is stuck until it is killed', async () => {
    hub = await startTestHub({ cancelGraceMs: 1_000 });
    const host = new ReferenceHost({
      url: hub.url,
      token: hub.tokens.extension,
      name: 'stuck-ts',
      killGraceMs: 8_000,
      stuckAfterMs: 1_500,
    });
    hosts.push(host);
    const stuckEvents: string[] = [];
    host.on('job:stuck', (id) => stuckEvents.push(id));
    await host.start();
    const code = 'import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)';
    await expectStuckThenFreed(hub, 'stuck-ts', code, 20_000);
    expect(stuckEvents).toHaveLength(1);
  }, 90_000);
});

describe('a paused host', () => {
  it('gets no job until it resumes, and shows as paused', async () => {
    hub = await startTestHub();
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'pausing', paused: true });
    scripted.push(ext);
    expect((await extension(hub, 'pausing'))?.state).toBe('paused');
    const t = await submit(hub, '1 + 1', 60_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await task(hub, t.id)).status).toBe('queued');
    expect(ext.jobs).toEqual([]);

    const ack = await ext.socket.timeout(5_000).emitWithAck('host:paused', { paused: false });
    expect(ack).toEqual({ ok: true, data: {} });
    await until(
      async () => (await task(hub as TestHub, t.id)).status === 'succeeded',
      15_000,
      'the job to run',
    );
    expect(ext.jobs.map((j) => j.taskId)).toEqual([t.id]);

    await ext.socket.timeout(5_000).emitWithAck('host:paused', { paused: true });
    const paused = await until(async () => {
      const e = await extension(hub as TestHub, 'pausing');
      return e?.state === 'paused' && e;
    });
    expect(paused.paused).toBe(true);
    const bad = await ext.socket.timeout(5_000).emitWithAck('host:paused', { paused: 'yes' } as never);
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_request', field: 'paused' } });
  }, 60_000);
});
