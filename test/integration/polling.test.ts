import { afterEach, describe, expect, it } from 'vitest';
import type { ExecResult, Task } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub;
/** The host secret the hub issued on this test's first poll; presented on every later request, as a host does. */
let secret: string | undefined;
afterEach(async () => {
  secret = undefined;
  await hub?.close();
});

type NextCode = { task_id: string; code: string; timeout: number; attempt: number; extension_id: string };
const SECRET_HEADER = 'x-switchboard-host-secret';

const poll = async (query: string) => {
  const res = await fetch(`${hub.url}/next_code?${query}`, {
    headers: {
      authorization: `Bearer ${hub.tokens.extension}`,
      ...(secret ? { [SECRET_HEADER]: secret } : {}),
    },
  });
  secret = res.headers.get(SECRET_HEADER) ?? secret;
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as NextCode };
};
const report = (body: object) =>
  http<{ ok: boolean; cancel: string | null; error?: { code: string } }>(
    hub.url,
    hub.tokens.extension,
    'POST',
    '/status_update',
    body,
    secret ? { [SECRET_HEADER]: secret } : {},
  );
const getTask = async (id: string) =>
  (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;

describe('HTTP polling hosts (/next_code, /status_update)', () => {
  it('a host long-polls for a job, streams output and reports the result', async () => {
    hub = await startTestHub();
    const polled = poll('id=poller-1&name=Poller&labels=old,http&wait=10');
    await until(
      async () =>
        (await http<unknown[]>(hub.url, hub.tokens.viewer, 'GET', '/api/v1/extensions')).body.length === 1,
    );
    const task = (
      await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
        code: 'print(1)',
        timeoutMs: 5000,
        target: { label: 'old' },
      })
    ).body;
    const job = await polled;
    expect(job.status).toBe(200);
    expect(job.body).toMatchObject({
      task_id: task.id,
      code: 'print(1)',
      timeout: expect.closeTo(5, 0), // what is left of the deadline, counted from submission
      attempt: 1,
      extension_id: 'poller-1',
    });
    expect((await report({ task_id: task.id, status: 'running', stdout: 'one\n' })).body).toEqual({
      ok: true,
      cancel: null,
    });
    await report({ task_id: task.id, stderr: 'warn\n' });
    await report({ task_id: task.id, status: 'succeeded', stdout: 'two\n', result: { n: 1 } });
    const done = await getTask(task.id);
    expect(done.status).toBe('succeeded');
    expect(done.result).toEqual({ n: 1 });
    const exec = (await http<ExecResult>(hub.url, hub.tokens.viewer, 'GET', `/status/${task.id}`)).body;
    expect(exec.stdout).toBe('one\ntwo\n');
    expect(exec.stderr).toBe('warn\n');
  });

  it('answers 204 when no job arrives within the wait', async () => {
    hub = await startTestHub();
    const res = await poll('name=idle&wait=0.2');
    expect(res.status).toBe(204);
  });

  it('reports a failure with its traceback', async () => {
    hub = await startTestHub();
    const polled = poll('id=p&wait=10');
    const task = (await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: '1/0' }))
      .body;
    await polled;
    await report({
      task_id: task.id,
      status: 'failed',
      error: 'division by zero',
      error_type: 'ZeroDivisionError',
      traceback: 'Traceback...\nZeroDivisionError: division by zero',
    });
    const done = await getTask(task.id);
    expect(done.status).toBe('failed');
    expect(done.error?.message).toBe('ZeroDivisionError: division by zero');
    expect(done.error?.traceback).toMatch(/ZeroDivisionError/);
  });

  it('tells the host to stop a cancelled job on its next report', async () => {
    hub = await startTestHub();
    const polled = poll('id=p&wait=10');
    const task = (
      await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'while True: pass' })
    ).body;
    await polled;
    await report({ task_id: task.id, status: 'running' });
    await http(hub.url, hub.tokens.operator, 'POST', `/api/v1/tasks/${task.id}/cancel`);
    expect((await report({ task_id: task.id, stdout: 'still going\n' })).body.cancel).toBe('cancelled');
    await report({ task_id: task.id, status: 'cancelled' });
    expect((await getTask(task.id)).status).toBe('cancelled');
  });

  it('a host that stops polling goes offline and its job is re-queued', async () => {
    hub = await startTestHub({ heartbeatMs: 200 });
    const polled = poll('id=gone&wait=10');
    const task = (
      await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'x', retries: 1 })
    ).body;
    await polled;
    await report({ task_id: task.id, status: 'running' });
    await until(async () => (await getTask(task.id)).status === 'queued', 5_000, 'job re-queued');
    expect((await http<unknown[]>(hub.url, hub.tokens.viewer, 'GET', '/api/v1/extensions')).body).toEqual([]);
  });

  it('refuses reports for tasks that are not out on a polling host, and bad bodies', async () => {
    hub = await startTestHub();
    const task = (await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'x' }))
      .body;
    const res = await report({ task_id: task.id, status: 'succeeded' });
    expect(res.status).toBe(409);
    expect(res.body.error?.code).toBe('conflict');
    expect((await report({ task_id: 'nope' })).status).toBe(404);
    const bad = await http<{ error: { field: string } }>(
      hub.url,
      hub.tokens.extension,
      'POST',
      '/status_update',
      { task_id: task.id, status: 'done' },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('status');
    expect((await http(hub.url, hub.tokens.viewer, 'GET', '/next_code?wait=0')).status).toBe(403);
  });
});
