import { afterEach, describe, expect, it } from 'vitest';
import { type ExecResult, HUB_VERSION, type Task } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { type JobScript, type ScriptedExtension, scriptedExtension } from '../helpers/scripted-extension.js';

let hub: TestHub;
const exts: ScriptedExtension[] = [];
afterEach(async () => {
  for (const e of exts.splice(0)) e.close();
  await hub?.close();
});

async function ext(name: string, script?: JobScript, labels: string[] = []): Promise<ScriptedExtension> {
  const e = await scriptedExtension(hub.url, hub.tokens.extension, { name, labels }, script);
  exts.push(e);
  return e;
}

const EXEC_KEYS = [
  'task_id',
  'status',
  'stdout',
  'stderr',
  'result',
  'error',
  'traceback',
  'duration_ms',
].sort();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POST /execute as an exec-platform client does, timing the wait. */
async function execute(body: Record<string, unknown>) {
  const t0 = Date.now();
  const res = await http<ExecResult>(hub.url, hub.tokens.operator, 'POST', '/execute', body);
  return { ...res, elapsed: Date.now() - t0 };
}
const status = (id: string) => http<ExecResult>(hub.url, hub.tokens.viewer, 'GET', `/status/${id}`);
const nativeTask = async (id: string) =>
  (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;

describe('POST /execute', () => {
  it('waits for the job and returns its stdout, stderr, result and duration', async () => {
    hub = await startTestHub();
    const host = await ext('kit-a', async (api) => {
      await api.started();
      await api.output('hello ');
      await api.output('careful\n', 'stderr');
      await api.output('world\n');
      await sleep(60);
      await api.result({ status: 'succeeded', result: { answer: 42, prims: ['/World/Cube'] } });
    });
    const res = await execute({ code: 'print("hello world")\n{"answer": 42}', timeout: 30 });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(EXEC_KEYS);
    expect(res.body).toMatchObject({
      status: 'succeeded',
      stdout: 'hello world\n',
      stderr: 'careful\n',
      result: { answer: 42, prims: ['/World/Cube'] },
      error: null,
      traceback: null,
    });
    expect(res.body.task_id).toMatch(/^t_/);
    expect(res.body.duration_ms).toBeGreaterThanOrEqual(50);
    expect(res.body.duration_ms).toBeLessThan(res.elapsed + 1);
    // It answers when the job ends, not when the timeout runs out; the timeout reaches the host in ms.
    expect(res.elapsed).toBeLessThan(5_000);
    expect(host.jobs).toHaveLength(1);
    expect(host.jobs[0]).toMatchObject({
      taskId: res.body.task_id,
      code: 'print("hello world")\n{"answer": 42}',
    });
    // What is left of the deadline, counted from submission.
    expect(host.jobs[0]?.timeoutMs).toBeLessThanOrEqual(30_000);
    expect(host.jobs[0]?.timeoutMs).toBeGreaterThan(25_000);
    // The same view later, by id and as the latest task.
    expect((await status(res.body.task_id)).body).toEqual(res.body);
    expect((await http(hub.url, hub.tokens.viewer, 'GET', '/last_status')).body).toEqual(res.body);
  });

  it('reports a failure with its error and traceback', async () => {
    hub = await startTestHub();
    const traceback =
      'Traceback (most recent call last):\n  File "<exec>", line 2, in <module>\nZeroDivisionError: division by zero\n';
    await ext('kit-a', async (api) => {
      await api.started();
      await api.output('about to divide\n');
      await api.result({
        status: 'failed',
        error: { type: 'ZeroDivisionError', message: 'division by zero', traceback },
      });
    });
    const res = await execute({ code: 'print("about to divide")\n1/0', timeout: 5 });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(EXEC_KEYS);
    expect(res.body).toMatchObject({
      status: 'failed',
      stdout: 'about to divide\n',
      stderr: '',
      result: null,
      error: 'ZeroDivisionError: division by zero',
      traceback,
    });
    expect(res.body.duration_ms).toEqual(expect.any(Number));
  });

  it('times out a job that never answers (timeout 0.3 s) and tells the host to stop', async () => {
    hub = await startTestHub();
    const host = await ext('kit-stuck', (api) => api.started());
    const res = await execute({ code: 'while True: pass', timeout: 0.3 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'timed_out', result: null, traceback: null });
    expect(res.body.error).toMatch(/timeout of 0\.3s/);
    expect(res.elapsed).toBeGreaterThanOrEqual(280);
    expect(res.elapsed).toBeLessThan(1_500);
    expect(host.jobs[0]?.timeoutMs).toBeLessThanOrEqual(300);
    await until(() => host.cancels.some((c) => c.taskId === res.body.task_id && c.reason === 'timed_out'));
  });

  it('does not leave the caller hanging, or the code waiting to run later, when no extension can take it', async () => {
    hub = await startTestHub();
    const res = await execute({ code: 'print(1)', target: 'label:nobody', timeout: 0.3 });
    expect(res.status).toBe(200);
    expect(res.elapsed).toBeLessThan(2_000);
    // The caller gave up after its timeout: the code must not run when a matching host shows up later.
    expect(['timed_out', 'failed', 'cancelled']).toContain(res.body.status);
    expect(res.body.error).toEqual(expect.any(String));
    const late = await ext('kit-late', undefined, ['nobody']);
    await sleep(200);
    expect(late.jobs).toHaveLength(0);
  });

  it('returns cancelled when the task is cancelled while the caller waits', async () => {
    hub = await startTestHub();
    await ext('kit-a', async (api) => {
      await api.started();
      const c = await api.cancelled;
      await api.result({ status: c.reason });
    });
    const pending = execute({ code: 'while True: pass', timeout: 10 });
    const running = await until(async () => {
      const page = await http<{ tasks: Task[] }>(
        hub.url,
        hub.tokens.viewer,
        'GET',
        '/api/v1/tasks?status=running',
      );
      return page.body.tasks[0];
    });
    await http(hub.url, hub.tokens.operator, 'POST', `/api/v1/tasks/${running.id}/cancel`);
    const res = await pending;
    expect(res.body).toMatchObject({ task_id: running.id, status: 'cancelled' });
    expect(res.elapsed).toBeLessThan(5_000);
  });

  it('routes by extension id, by label:NAME, and to anyone for "any" or no target', async () => {
    hub = await startTestHub();
    const gpu = await ext('kit-gpu', undefined, ['gpu']);
    const cpu = await ext('kit-cpu', undefined, ['cpu']);
    const byId = await execute({ code: 'by id', target: cpu.extensionId, timeout: 5 });
    expect(byId.body.status).toBe('succeeded');
    expect((await nativeTask(byId.body.task_id)).extensionId).toBe(cpu.extensionId);
    const byLabel = await execute({ code: 'by label', target: 'label:gpu', timeout: 5 });
    expect(byLabel.body.status).toBe('succeeded');
    expect((await nativeTask(byLabel.body.task_id)).extensionId).toBe(gpu.extensionId);
    expect(byLabel.body.result).toEqual({ echo: 'by label' });
    for (const target of ['any', undefined]) {
      const res = await execute({ code: `to ${target}`, ...(target ? { target } : {}), timeout: 5 });
      expect(res.body.status).toBe('succeeded');
      expect([gpu.extensionId, cpu.extensionId]).toContain((await nativeTask(res.body.task_id)).extensionId);
    }
    expect(gpu.jobs.map((j) => j.code)).toContain('by label');
    expect(cpu.jobs.map((j) => j.code)).toContain('by id');
  });
});

describe('POST /queue, GET /status/{task_id}, GET /last_status', () => {
  it('queues at once, reports queued, then the finished result once a host runs it', async () => {
    hub = await startTestHub();
    const t0 = Date.now();
    const queued = await http<{ task_id: string; status: string }>(
      hub.url,
      hub.tokens.operator,
      'POST',
      '/queue',
      {
        code: 'later',
        timeout: 30,
      },
    );
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(queued.status).toBe(200);
    expect(Object.keys(queued.body).sort()).toEqual(['status', 'task_id']);
    expect(queued.body.status).toBe('queued');
    const before = await status(queued.body.task_id);
    expect(before.status).toBe(200);
    expect(Object.keys(before.body).sort()).toEqual(EXEC_KEYS);
    expect(before.body).toMatchObject({
      task_id: queued.body.task_id,
      status: 'queued',
      stdout: '',
      stderr: '',
      result: null,
      error: null,
      traceback: null,
      duration_ms: null,
    });
    const host = await ext('kit-a');
    const after = await until(async () => {
      const s = await status(queued.body.task_id);
      return s.body.status === 'succeeded' && s.body;
    });
    expect(after).toMatchObject({ stdout: 'ran: later\n', result: { echo: 'later' }, error: null });
    expect(after.duration_ms).toEqual(expect.any(Number));
    // What is left of the deadline, counted from submission.
    expect(host.jobs[0]?.timeoutMs).toBeLessThanOrEqual(30_000);
    expect(host.jobs[0]?.timeoutMs).toBeGreaterThan(25_000);
  });

  it('GET /status of an unknown task is 404 not_found', async () => {
    hub = await startTestHub();
    const res = await status('t_does_not_exist');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: 'not_found' } });
  });

  it('GET /last_status is 404 before any task, then follows the newest task', async () => {
    hub = await startTestHub();
    const none = await http<{ error: { code: string; message: string } }>(
      hub.url,
      hub.tokens.viewer,
      'GET',
      '/last_status',
    );
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe('not_found');
    expect(none.body.error.message).toMatch(/no task/);
    const first = await http<{ task_id: string }>(hub.url, hub.tokens.operator, 'POST', '/queue', {
      code: 'one',
    });
    const second = await http<{ task_id: string }>(hub.url, hub.tokens.operator, 'POST', '/queue', {
      code: 'two',
    });
    const last = await http<ExecResult>(hub.url, hub.tokens.viewer, 'GET', '/last_status');
    expect(last.status).toBe(200);
    expect(last.body.task_id).toBe(second.body.task_id);
    expect(last.body.task_id).not.toBe(first.body.task_id);
    expect(Object.keys(last.body).sort()).toEqual(EXEC_KEYS);
  });
});

describe('GET /healthz', () => {
  it('says ok with version, uptime, extensions online and tasks active, without a token', async () => {
    hub = await startTestHub();
    const empty = await http<Record<string, unknown>>(hub.url, null, 'GET', '/healthz');
    expect(empty.status).toBe(200);
    expect(Object.keys(empty.body).sort()).toEqual(
      ['status', 'version', 'uptime_s', 'extensions_online', 'tasks_active'].sort(),
    );
    expect(empty.body).toMatchObject({
      status: 'ok',
      version: HUB_VERSION,
      extensions_online: 0,
      tasks_active: 0,
    });
    expect(empty.body['uptime_s']).toEqual(expect.any(Number));
    await http(hub.url, hub.tokens.operator, 'POST', '/queue', { code: 'waits', target: 'label:nobody' });
    await ext('kit-a');
    await ext('kit-b');
    const busy = await http<Record<string, unknown>>(hub.url, null, 'GET', '/healthz');
    expect(busy.body).toMatchObject({ status: 'ok', extensions_online: 2, tasks_active: 1 });
  });
});
