import { io } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReferenceHost } from '../../extension-bridge/host/index.js';
import type { ExecResult, JobRun, JobRunAck, Registered, TaskEvent } from '../../server/protocol/index.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { startPythonBridge, stopAllBridges } from '../helpers/python-bridge.js';
import { scriptedExtension } from '../helpers/scripted-extension.js';

/**
 * The `result-report` feature: a host may fold a job's start and output into its `job:result`, or, when the
 * job ended before it acked, put the whole report in the `job:run` ack. The task's record is the same as with
 * separate reports: queued, dispatched, running, its output, done, succeeded.
 */
let hub: TestHub;
beforeEach(async () => {
  hub = await startTestHub();
});
afterEach(async () => {
  await stopAllBridges();
  await hub.close();
});

async function post<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${hub.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${hub.tokens.operator}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as T;
}

/** A bare host on a real socket: registers, answers each job:run with `answer`, records what it is sent. */
async function rawHost(
  url: string,
  token: string,
  reg: { name: string },
  answer: (job: JobRun) => JobRunAck = () => ({ accepted: true }),
) {
  const socket = io(`${url}/extension`, { auth: { token }, transports: ['websocket'], forceNew: true });
  const received: string[] = [];
  socket.onAny((event: string) => {
    if (event !== 'job:run') received.push(event);
  });
  socket.on('job:run', (job: JobRun, ack: (a: JobRunAck) => void) => ack(answer(job)));
  const res = (await socket.timeout(10_000).emitWithAck('register', reg)) as {
    ok: boolean;
    data: Registered;
  };
  expect(res.ok, JSON.stringify(res)).toBe(true);
  return {
    registered: res.data,
    /** Everything but job:run: a cancel or an error would show here. */
    received,
    close: () => socket.disconnect(),
  };
}

function shape(events: TaskEvent[]): string[] {
  return events.map((e) =>
    e.type === 'status'
      ? `status:${e.data.status}`
      : e.type === 'output'
        ? `output:${e.data.stream}:${e.data.text}`
        : e.type,
  );
}

const FOLDED = [
  'status:queued',
  'status:dispatched',
  'status:running',
  'output:stdout:hello\n',
  'output:stderr:careful\n',
  'done',
  'status:succeeded',
];

describe('result-report', () => {
  it('is offered in the register ack', async () => {
    const host = await rawHost(hub.url, hub.tokens.extension, { name: 'offer' });
    expect(host.registered.features).toContain('result-report');
    host.close();
  });

  it('takes start, output and end folded into one job:result', async () => {
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'folder' }, async (api) => {
      await api.result({
        status: 'succeeded',
        result: 42,
        output: [
          { stream: 'stdout', text: 'hello\n' },
          { stream: 'stderr', text: 'careful\n' },
        ],
      });
    });
    const res = await post<ExecResult>('/execute', { code: 'print("hello")' });
    ext.close();
    expect(res).toMatchObject({ status: 'succeeded', stdout: 'hello\n', stderr: 'careful\n', result: 42 });
    expect(res.duration_ms).not.toBeNull();
    expect(shape(await hub.hub.ctx.tasks.replay(res.task_id, 0))).toEqual(FOLDED);
  });

  it('takes the whole report in the job:run ack', async () => {
    const host = await rawHost(hub.url, hub.tokens.extension, { name: 'acker' }, (job) => ({
      accepted: true,
      report: {
        attempt: job.attempt,
        status: 'succeeded',
        result: { echo: job.code },
        output: [
          { stream: 'stdout', text: 'hello\n' },
          { stream: 'stderr', text: 'careful\n' },
        ],
      },
    }));
    const res = await post<ExecResult>('/execute', { code: 'print("hello")' });
    expect(res).toMatchObject({ status: 'succeeded', stdout: 'hello\n', result: { echo: 'print("hello")' } });
    expect(shape(await hub.hub.ctx.tasks.replay(res.task_id, 0))).toEqual(FOLDED);
    // Nothing else was sent about the job: the slot is free again and takes the next one.
    const next = await post<ExecResult>('/execute', { code: '2' });
    expect(next.status).toBe('succeeded');
    expect(host.received).toEqual([]);
    host.close();
  });

  it('fails a task whose folded report says so, with the error and output kept', async () => {
    const host = await rawHost(hub.url, hub.tokens.extension, { name: 'failer' }, (job) => ({
      accepted: true,
      report: {
        attempt: job.attempt,
        status: 'failed',
        error: { type: 'ZeroDivisionError', message: 'division by zero', traceback: 'Traceback...' },
        output: [{ stream: 'stdout', text: 'about to divide\n' }],
      },
    }));
    const res = await post<ExecResult>('/execute', { code: '1/0' });
    host.close();
    expect(res).toMatchObject({
      status: 'failed',
      stdout: 'about to divide\n',
      error: 'ZeroDivisionError: division by zero',
      traceback: 'Traceback...',
    });
  });

  it('names the field of a malformed folded output', async () => {
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'bad' }, async (api) => {
      await api
        .result({ status: 'succeeded', output: [{ stream: 'stdin' as 'stdout', text: 'x' }] })
        .catch((err: Error) => api.output(`refused: ${err.message}`));
      await api.result({ status: 'succeeded', result: 'second try' });
    });
    const res = await post<ExecResult>('/execute', { code: 'x' });
    ext.close();
    expect(res.status).toBe('succeeded');
    expect(res.stdout).toMatch(/refused: job:result: .*output/);
  });

  it('is used by the reference host: a quick job is reported in one message', async () => {
    const seen: string[] = [];
    hub.hub.io.of('/extension').on('connection', (s) => s.onAny((event: string) => seen.push(event)));
    // A wide window, so a loaded machine's slow interpreter start still counts as quick.
    const host = new ReferenceHost({
      url: hub.url,
      token: hub.tokens.extension,
      name: 'ref-fold',
      foldWindowMs: 20_000,
    });
    try {
      await host.start();
      const res = await post<ExecResult>('/execute', {
        code: 'print("hello")\nimport sys\nsys.stderr.write("careful\\n")\n6 * 7',
      });
      expect(res).toMatchObject({ status: 'succeeded', stdout: 'hello\n', stderr: 'careful\n', result: 42 });
      expect(shape(await hub.hub.ctx.tasks.replay(res.task_id, 0))).toEqual(FOLDED);
      expect((await hub.hub.ctx.tasks.require(res.task_id)).startedAt).not.toBeNull();
      expect(seen.filter((e) => e.startsWith('job:'))).toEqual(['job:result']);
    } finally {
      await host.stop();
    }
  });

  it('tells the start of a job that outlasts the window while it runs', async () => {
    const seen: string[] = [];
    hub.hub.io.of('/extension').on('connection', (s) => s.onAny((event: string) => seen.push(event)));
    const host = new ReferenceHost({
      url: hub.url,
      token: hub.tokens.extension,
      name: 'ref-slow',
      foldWindowMs: 300,
    });
    try {
      await host.start();
      const task = await post<{ id: string }>('/api/v1/tasks', {
        code: 'import time\nprint("early", flush=True)\ntime.sleep(30)',
      });
      // Followed live: running, and the output held so far, long before the job ends.
      await expect
        .poll(async () => shape(await hub.hub.ctx.tasks.replay(task.id, 0)), { timeout: 20_000 })
        .toEqual(['status:queued', 'status:dispatched', 'status:running', 'output:stdout:early\n']);
      expect(seen.filter((e) => e.startsWith('job:'))).toEqual(['job:started', 'job:output']);
      await post(`/api/v1/tasks/${task.id}/cancel`, {});
    } finally {
      await host.stop();
    }
  });

  it('is not used by a reference host whose window is 0', async () => {
    const seen: string[] = [];
    hub.hub.io.of('/extension').on('connection', (s) => s.onAny((event: string) => seen.push(event)));
    const host = new ReferenceHost({
      url: hub.url,
      token: hub.tokens.extension,
      name: 'ref-0',
      foldWindowMs: 0,
    });
    try {
      await host.start();
      const res = await post<ExecResult>('/execute', { code: 'print("hello")\n1' });
      expect(res).toMatchObject({ status: 'succeeded', stdout: 'hello\n', result: 1 });
      expect(seen.filter((e) => e.startsWith('job:'))).toEqual(['job:started', 'job:output', 'job:result']);
    } finally {
      await host.stop();
    }
  });

  it('is used by the Python bridge: a quick job is reported in one message, a slow one live', async () => {
    const seen: string[] = [];
    hub.hub.io.of('/extension').on('connection', (s) => s.onAny((event: string) => seen.push(event)));
    // A wide window (read by the bridge from its environment), so a loaded machine cannot make it miss.
    process.env['SWITCHBOARD_FOLD_WINDOW_MS'] = '3000';
    try {
      await startPythonBridge(hub, { name: 'py-fold', policy: 'off' });
    } finally {
      delete process.env['SWITCHBOARD_FOLD_WINDOW_MS'];
    }
    const res = await post<ExecResult>('/execute', {
      code: 'import sys\nprint("hello")\nsys.stderr.write("careful\\n")\nresult = 42',
    });
    expect(res).toMatchObject({ status: 'succeeded', stdout: 'hello\n', stderr: 'careful\n' });
    expect(shape(await hub.hub.ctx.tasks.replay(res.task_id, 0))).toEqual(FOLDED);
    expect(seen.filter((e) => e.startsWith('job:'))).toEqual(['job:result']);
    // Past the window the start and the output so far are told while the job runs.
    const task = await post<{ id: string }>('/api/v1/tasks', {
      code: 'import time\nprint("early")\ntime.sleep(30)',
    });
    await expect
      .poll(async () => shape(await hub.hub.ctx.tasks.replay(task.id, 0)), { timeout: 20_000 })
      .toEqual(['status:queued', 'status:dispatched', 'status:running', 'output:stdout:early\n']);
    await post(`/api/v1/tasks/${task.id}/cancel`, {});
  });
});
