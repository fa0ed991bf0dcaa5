import { afterEach, describe, expect, it } from 'vitest';
import type { ErrorBody, JobRun, Registered, Task, TaskEvent } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { WsClient } from '../helpers/ws-client.js';

let hub: TestHub;
const clients: WsClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await hub?.close();
});

async function open(path: string, token: string | null) {
  const c = await WsClient.open(hub.url, path, token);
  clients.push(c);
  return c;
}

/** A ws host that runs every job by echoing it, the way a host with only a WebSocket library would. */
async function wsHost(name: string, labels: string[] = []) {
  const host = await open('/ws/extension', hub.tokens.extension);
  host.on('job:run', (data) => {
    const job = data as JobRun;
    setTimeout(async () => {
      await host.request('job:started', { taskId: job.taskId });
      await host.request('job:output', {
        taskId: job.taskId,
        stream: 'stdout',
        text: `ws ran ${job.code}\n`,
      });
      await host.request('job:result', { taskId: job.taskId, status: 'succeeded', result: job.code.length });
    }, 0);
    return { accepted: true };
  });
  const reg = await host.request<Registered>('register', { name, labels });
  if (!reg.ok) throw new Error(reg.error.message);
  return { host, id: reg.data.extensionId };
}

describe('raw WebSocket endpoints', () => {
  it('a ws host registers, takes jobs and reports output and results', async () => {
    hub = await startTestHub();
    const { id } = await wsHost('ws-host', ['raw']);
    const list = await http<Array<{ id: string; transport: string }>>(
      hub.url,
      hub.tokens.viewer,
      'GET',
      '/api/v1/extensions',
    );
    expect(list.body).toEqual([expect.objectContaining({ id, transport: 'ws' })]);
    const task = (
      await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
        code: 'abc',
        target: { label: 'raw' },
      })
    ).body;
    const done = await until(async () => {
      const t = (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${task.id}`)).body;
      return t.status === 'succeeded' && t;
    });
    expect(done.result).toBe(3);
    expect(done.extensionId).toBe(id);
    const exec = await http<{ stdout: string }>(hub.url, hub.tokens.viewer, 'GET', `/status/${task.id}`);
    expect(exec.body.stdout).toBe('ws ran abc\n');
  });

  it('a monitor over ws submits, subscribes and gets replay then live events', async () => {
    hub = await startTestHub();
    await wsHost('ws-host');
    const mon = await open('/ws/monitor', hub.tokens.operator);
    const sub = await mon.request<Task>('task:submit', { code: 'x' });
    if (!sub.ok) throw new Error(sub.error.message);
    await until(
      async () =>
        (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${sub.data.id}`)).body.status ===
        'succeeded',
    );
    const ack = await mon.request<Task>('task:subscribe', { taskId: sub.data.id, afterSeq: 2 });
    expect(ack.ok).toBe(true);
    await until(() => mon.eventsNamed('task:event').length >= 4);
    const seqs = (mon.eventsNamed('task:event') as TaskEvent[]).map((e) => e.seq);
    expect(seqs).toEqual([3, 4, 5, 6]);
  });

  it('answers bad frames with hub:error and keeps the connection open', async () => {
    hub = await startTestHub();
    const host = await open('/ws/extension', hub.tokens.extension);
    host.sendRaw('{not json');
    host.sendRaw(JSON.stringify({ type: 'event' }));
    await until(() => host.eventsNamed('hub:error').length === 2);
    const [notJson, noEvent] = host.eventsNamed('hub:error') as ErrorBody[];
    expect(notJson?.message).toMatch(/not valid JSON/);
    expect(noEvent?.field).toMatch(/^frame\.event/);
    const unknown = await host.request('job:fly', {});
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.error.message).toMatch(/unknown event/);
    const early = await host.request('job:output', { taskId: 't', stream: 'stdout', text: 'x' });
    expect(!early.ok && early.error.code).toBe('conflict');
    const bad = await host.request('register', { name: 42 });
    expect(!bad.ok && bad.error.field).toBe('name');
    const good = await host.request<Registered>('register', { name: 'recovered' });
    expect(good.ok).toBe(true);
  });

  it('refuses the upgrade without a valid token or with the wrong role', async () => {
    hub = await startTestHub();
    await expect(WsClient.open(hub.url, '/ws/extension', null)).rejects.toMatchObject({ status: 401 });
    await expect(WsClient.open(hub.url, '/ws/extension', hub.tokens.viewer)).rejects.toMatchObject({
      status: 403,
    });
    await expect(WsClient.open(hub.url, '/ws/monitor', hub.tokens.extension)).rejects.toMatchObject({
      status: 403,
    });
  });

  it('sends a lost ws host its job back to the queue after the reconnect grace', async () => {
    hub = await startTestHub({ reconnectGraceMs: 200 });
    const host = await open('/ws/extension', hub.tokens.extension);
    host.on('job:run', () => ({ accepted: true }));
    await host.request('register', { name: 'fragile' });
    const task = (
      await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'x', retries: 1 })
    ).body;
    await until(
      async () =>
        (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${task.id}`)).body.status ===
        'dispatched',
    );
    host.ws.terminate();
    await until(async () => {
      const t = (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${task.id}`)).body;
      return t.status === 'queued' && t.attempts === 1;
    });
  });
});
