import { afterEach, describe, expect, it } from 'vitest';
import type { Task, TaskEvent, TaskPage } from '../../server/protocol/index.js';
import { call, eventsUntilEnd, http, monitorClient, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { type ScriptedExtension, scriptedExtension } from '../helpers/scripted-extension.js';

let hub: TestHub;
const exts: ScriptedExtension[] = [];
afterEach(async () => {
  for (const e of exts.splice(0)) e.close();
  await hub?.close();
});

async function ext(
  name: string,
  opts: { labels?: string[]; concurrency?: number; script?: ScriptedExtension['script'] } = {},
) {
  const e = await scriptedExtension(
    hub.url,
    hub.tokens.extension,
    { name, labels: opts.labels ?? [], concurrency: opts.concurrency ?? 1 },
    opts.script,
  );
  exts.push(e);
  return e;
}

const types = (events: TaskEvent[]) =>
  events.map((e) => (e.type === 'status' ? `status:${e.data.status}` : e.type));

async function submit(body: Record<string, unknown>): Promise<Task> {
  const res = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', body);
  expect(res.status).toBe(201);
  return res.body;
}

async function finalTask(id: string, status?: string): Promise<Task> {
  return until<Task | false>(
    async () => {
      const t = (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;
      return status
        ? t.status === status && t
        : ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(t.status) && t;
    },
    10_000,
    `task ${id} to end`,
  );
}

describe('dispatch end to end', () => {
  it('runs code submitted over HTTP and streams its events in seq order', async () => {
    hub = await startTestHub();
    const e = await ext('kit-a');
    const task = await submit({ code: 'print(1)' });
    const done = await finalTask(task.id);
    expect(done.status).toBe('succeeded');
    expect(done.result).toEqual({ echo: 'print(1)' });
    expect(done.extensionId).toBe(e.extensionId);
    expect(done.attempts).toBe(1);
    const viewer = await monitorClient(hub.url, hub.tokens.viewer);
    // Listen first: the replay follows the ack in the same burst of frames.
    const replayed = eventsUntilEnd(viewer, task.id);
    const ack = await call<Task>(viewer, 'task:subscribe', { taskId: task.id, afterSeq: 0 });
    expect(ack.ok).toBe(true);
    const events = await replayed;
    expect(types(events)).toEqual([
      'status:queued',
      'status:dispatched',
      'status:running',
      'output',
      'done',
      'status:succeeded',
    ]);
    expect(events.map((ev) => ev.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    viewer.close();
  });

  it('runs code submitted over the socket and lets a second client watch it live', async () => {
    hub = await startTestHub();
    await ext('kit-a', {
      script: async (api) => {
        await api.started();
        for (let i = 0; i < 5; i++) {
          await api.output(`line ${i}\n`);
          await new Promise((r) => setTimeout(r, 20));
        }
        await api.result({ status: 'succeeded', result: 42 });
      },
    });
    const operator = await monitorClient(hub.url, hub.tokens.operator);
    const watcher = await monitorClient(hub.url, hub.tokens.viewer);
    const submitted = await call<Task>(operator, 'task:submit', { code: 'x = 42\nx' });
    if (!submitted.ok) throw new Error(submitted.error.message);
    const live = eventsUntilEnd(watcher, submitted.data.id);
    await call(watcher, 'task:subscribe', { taskId: submitted.data.id });
    const events = await live;
    expect(
      events.filter((ev) => ev.type === 'output').map((ev) => ev.type === 'output' && ev.data.text),
    ).toEqual(['line 0\n', 'line 1\n', 'line 2\n', 'line 3\n', 'line 4\n']);
    expect(events.map((ev) => ev.seq)).toEqual(events.map((_, i) => i + 1));
    const last = events.at(-1);
    expect(last?.type === 'status' && last.data.status).toBe('succeeded');
    operator.close();
    watcher.close();
  });

  it('routes by extension id, by label, and to any idle extension', async () => {
    hub = await startTestHub();
    const gpu = await ext('kit-gpu', { labels: ['gpu'] });
    const cpu = await ext('kit-cpu', { labels: ['cpu'] });
    const byLabel = await finalTask((await submit({ code: 'a', target: { label: 'gpu' } })).id);
    expect(byLabel.extensionId).toBe(gpu.extensionId);
    const byId = await finalTask((await submit({ code: 'b', target: { extensionId: cpu.extensionId } })).id);
    expect(byId.extensionId).toBe(cpu.extensionId);
    const any = await finalTask((await submit({ code: 'c' })).id);
    expect([gpu.extensionId, cpu.extensionId]).toContain(any.extensionId);
    expect(gpu.jobs.map((j) => j.code)).toContain('a');
    expect(cpu.jobs.map((j) => j.code)).toContain('b');
  });

  it('queues until a matching extension connects', async () => {
    hub = await startTestHub();
    const task = await submit({ code: 'queued', target: { label: 'late' } });
    await ext('kit-other', { labels: ['other'] });
    await new Promise((r) => setTimeout(r, 150));
    expect(
      (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${task.id}`)).body.status,
    ).toBe('queued');
    const late = await ext('kit-late', { labels: ['late'] });
    const done = await finalTask(task.id);
    expect(done.status).toBe('succeeded');
    expect(done.extensionId).toBe(late.extensionId);
  });

  it('times out a job, tells the extension to stop it, and takes the next job', async () => {
    hub = await startTestHub();
    const e = await ext('kit-slow', {
      script: async (api) => {
        await api.started();
        if (api.job.code === 'forever') {
          const c = await api.cancelled;
          await api.result({ status: c.reason });
          return;
        }
        await api.result({ status: 'succeeded', result: 'next' });
      },
    });
    const slow = await submit({ code: 'forever', timeoutMs: 300 });
    const done = await finalTask(slow.id);
    expect(done.status).toBe('timed_out');
    expect(done.error?.code).toBe('timed_out');
    expect(done.error?.message).toMatch(/timeout of 0.3s/);
    await until(() => e.cancels.some((c) => c.taskId === slow.id && c.reason === 'timed_out'));
    const next = await finalTask((await submit({ code: 'quick' })).id);
    expect(next.status).toBe('succeeded');
  });

  it('cancels a running job: the extension is told and the task ends cancelled', async () => {
    hub = await startTestHub();
    const e = await ext('kit-a', {
      script: async (api) => {
        await api.started();
        const c = await api.cancelled;
        await api.result({ status: c.reason });
      },
    });
    const task = await submit({ code: 'while True: pass' });
    await until(
      async () =>
        (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${task.id}`)).body.status ===
        'running',
    );
    const res = await http<Task>(hub.url, hub.tokens.operator, 'POST', `/api/v1/tasks/${task.id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    await until(() => e.cancels.some((c) => c.taskId === task.id && c.reason === 'cancelled'));
    const again = await http<{ error: { code: string } }>(
      hub.url,
      hub.tokens.operator,
      'POST',
      `/api/v1/tasks/${task.id}/cancel`,
    );
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('task_finished');
  });

  it('cancels a queued task without any extension', async () => {
    hub = await startTestHub();
    const task = await submit({ code: 'never runs' });
    const res = await http<Task>(hub.url, hub.tokens.admin, 'POST', `/api/v1/tasks/${task.id}/cancel`);
    expect(res.body.status).toBe('cancelled');
  });

  it('re-queues a job when its extension is lost, and runs it elsewhere', async () => {
    hub = await startTestHub();
    const flaky = await ext('kit-flaky', { script: (api) => api.started() });
    const task = await submit({ code: 'retry me', retries: 1 });
    await until(() => flaky.jobs.length === 1);
    await until(
      async () =>
        (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${task.id}`)).body.status ===
        'running',
    );
    flaky.close();
    await finalTask(task.id, 'queued');
    await ext('kit-steady');
    const done = await finalTask(task.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempts).toBe(2);
    const viewer = await monitorClient(hub.url, hub.tokens.viewer);
    const live = eventsUntilEnd(viewer, task.id);
    await call(viewer, 'task:subscribe', { taskId: task.id });
    const statuses = (await live).flatMap((ev) =>
      ev.type === 'status' ? [`${ev.data.status}:${ev.data.reason}`] : [],
    );
    expect(statuses).toContain('queued:extension_lost');
    viewer.close();
  });

  it('fails a job whose extension is lost once its retry budget is spent', async () => {
    hub = await startTestHub();
    const flaky = await ext('kit-flaky', { script: (api) => api.started() });
    const task = await submit({ code: 'no retries', retries: 0 });
    await until(() => flaky.jobs.length === 1);
    flaky.close();
    const done = await finalTask(task.id);
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('extension_lost');
    expect(done.error?.message).toMatch(/kit-flaky.*disconnected.*attempt 1 of 1/);
  });

  it('runs as many jobs at once as the extension declares', async () => {
    hub = await startTestHub();
    let running = 0;
    let peak = 0;
    await ext('kit-wide', {
      concurrency: 3,
      script: async (api) => {
        running += 1;
        peak = Math.max(peak, running);
        await api.started();
        await new Promise((r) => setTimeout(r, 150));
        running -= 1;
        await api.result({ status: 'succeeded', result: api.job.code });
      },
    });
    const tasks = await Promise.all(['1', '2', '3', '4', '5', '6'].map((code) => submit({ code })));
    const done = await Promise.all(tasks.map((t) => finalTask(t.id)));
    expect(done.every((t) => t.status === 'succeeded')).toBe(true);
    expect(peak).toBe(3);
  });

  it('lists tasks newest first with paging and filters', async () => {
    hub = await startTestHub();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submit({ code: `c${i}` })).id);
    await http(hub.url, hub.tokens.operator, 'POST', `/api/v1/tasks/${ids[0]}/cancel`);
    const page1 = (await http<TaskPage>(hub.url, hub.tokens.viewer, 'GET', '/api/v1/tasks?limit=3')).body;
    expect(page1.tasks.map((t) => t.id)).toEqual([ids[4], ids[3], ids[2]]);
    const page2 = (
      await http<TaskPage>(
        hub.url,
        hub.tokens.viewer,
        'GET',
        `/api/v1/tasks?limit=3&cursor=${page1.nextCursor}`,
      )
    ).body;
    expect(page2.tasks.map((t) => t.id)).toEqual([ids[1], ids[0]]);
    expect(page2.nextCursor).toBeNull();
    const cancelled = (
      await http<TaskPage>(hub.url, hub.tokens.viewer, 'GET', '/api/v1/tasks?status=cancelled')
    ).body;
    expect(cancelled.tasks.map((t) => t.id)).toEqual([ids[0]]);
  });

  it('drops a report about an attempt that has been replaced', async () => {
    hub = await startTestHub();
    await ext('kit-a', {
      script: async (api) => {
        await api.started();
        // A late "cancelled" from an earlier attempt must not end this one.
        await api.result({ status: 'cancelled', attempt: api.job.attempt + 1 });
        await api.output('still here\n');
        await api.result({ status: 'succeeded', result: 'ok', attempt: api.job.attempt });
      },
    });
    const done = await finalTask((await submit({ code: 'x' })).id);
    expect(done.status).toBe('succeeded');
    expect(done.result).toBe('ok');
  });
});
