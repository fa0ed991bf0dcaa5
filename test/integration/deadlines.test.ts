import { afterEach, describe, expect, it } from 'vitest';
import type { ExecResult, Task, TaskEvent } from '../../server/protocol/index.js';
import { runCli } from '../helpers/cli.js';
import { http, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import {
  codeDrivenScript,
  type ScriptedExtension,
  scriptedExtension,
} from '../helpers/scripted-extension.js';

let hub: TestHub;
const exts: ScriptedExtension[] = [];
afterEach(async () => {
  for (const e of exts.splice(0)) e.close();
  await hub?.close();
});

const submit = async (body: object) => {
  const res = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
};
const getTask = async (id: string) =>
  (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;
const ended = (id: string, ms = 15_000) =>
  until(
    async () => {
      const t = await getTask(id);
      return ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(t.status) && t;
    },
    ms,
    `task ${id} to end`,
  );
/** The task's events as a subscriber's replay gets them (the SSE stream would stay open while it waits). */
const events = async (id: string): Promise<TaskEvent[]> => hub.hub.ctx.tasks.replay(id, 0);
const waits = (evs: TaskEvent[]) =>
  evs.flatMap((e) => (e.type === 'log' && e.data.waiting ? [[e.data.waiting, e.data.message]] : []));

async function host(name: string, labels: string[] = [], concurrency = 1) {
  const ext = await scriptedExtension(
    hub.url,
    hub.tokens.extension,
    { name, labels, concurrency },
    codeDrivenScript,
  );
  exts.push(ext);
  return ext;
}

describe('deadlines count from submission, and a waiting task says why', () => {
  it('times out a task no extension takes (POST /api/v1/tasks, timeoutMs 1000), saying why it waited', async () => {
    hub = await startTestHub();
    await host('some-host', ['other']);
    const task = await submit({ code: 'x', target: { label: 'nobody' }, timeoutMs: 1000 });
    const done = await ended(task.id);
    expect(done.status).toBe('timed_out');
    expect(done.attempts).toBe(0);
    expect(done.error?.message).toBe(
      'no extension took the task within its timeout of 1s: no extension has the label nobody',
    );
    expect(waits(await events(task.id))).toEqual([
      ['no_match', 'waiting: no extension has the label nobody'],
    ]);
  });

  it('says when no extension is connected, then when all are busy, and runs it once one is free', async () => {
    hub = await startTestHub();
    const waiting = await submit({ code: 'x', timeoutMs: 60_000 });
    await until(async () => waits(await events(waiting.id)).length === 1, 10_000, 'first waiting note');
    const busy = await host('busy-host');
    // hang() holds the only slot: the waiting task is dispatched first, so submit the blocker first.
    await until(async () => (await getTask(waiting.id)).status === 'succeeded', 10_000, 'first task ran');
    const blocker = await submit({ code: 'hang()', timeoutMs: 60_000 });
    await until(async () => (await getTask(blocker.id)).status === 'running', 10_000, 'blocker running');
    const queued = await submit({ code: 'after', timeoutMs: 60_000 });
    await until(async () => waits(await events(queued.id)).length === 1, 10_000, 'busy note');
    await http(hub.url, hub.tokens.operator, 'POST', `/api/v1/tasks/${blocker.id}/cancel`);
    expect((await ended(queued.id)).status).toBe('succeeded');
    expect(waits(await events(waiting.id))).toEqual([['no_extension', 'waiting: no extension is connected']]);
    expect(waits(await events(queued.id))).toEqual([['all_busy', 'waiting: the one extension is busy']]);
    expect(busy.jobs.map((j) => j.code)).toEqual(['x', 'hang()', 'after']);
  });

  it('counts time spent queued against the timeout: the host gets what is left', async () => {
    hub = await startTestHub();
    const task = await submit({ code: 'late', timeoutMs: 30_000 });
    await until(async () => waits(await events(task.id)).length === 1, 10_000, 'waiting note');
    await new Promise((r) => setTimeout(r, 1_500));
    const ext = await host('late-host');
    expect((await ended(task.id)).status).toBe('succeeded');
    const sent = ext.jobs[0]?.timeoutMs ?? 0;
    expect(sent).toBeLessThanOrEqual(28_500);
    expect(sent).toBeGreaterThan(10_000);
  });

  it('keeps a queued task’s deadline across a hub restart', async () => {
    hub = await startTestHub();
    const task = await submit({ code: 'x', target: { label: 'nobody' }, timeoutMs: 3_000 });
    const port = Number(new URL(hub.url).port);
    await hub.stop();
    hub = await startTestHub({ dataDir: hub.dataDir, port });
    const done = await ended(task.id);
    expect(done.status).toBe('timed_out');
    expect(Date.parse(done.endedAt ?? '') - Date.parse(done.createdAt)).toBeGreaterThanOrEqual(3_000);
  });

  it('/execute answers timed_out from the task’s own deadline', async () => {
    hub = await startTestHub();
    const res = await http<ExecResult>(hub.url, hub.tokens.operator, 'POST', '/execute', {
      code: 'x',
      target: 'label:nobody',
      timeout: 1,
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('timed_out');
    expect(res.body.error).toBe(
      'no extension took the task within its timeout of 1s: no extension is connected (the task needs the label nobody)',
    );
  });

  it('switchboard exec --target label:nobody --timeout 2 --follow ends timed_out and shows why it waits', {
    timeout: 60_000,
  }, async () => {
    hub = await startTestHub();
    const run = await runCli(
      ['exec', '-c', 'print(1)', '--target', 'label:nobody', '--timeout', '2', '--follow'],
      {
        SWITCHBOARD_URL: hub.url,
        SWITCHBOARD_TOKEN: hub.tokens.operator,
      },
    );
    expect(run.stderr).toContain('waiting: no extension is connected (the task needs the label nobody)');
    expect(run.stderr).toContain('✖ timed_out: no extension took the task within its timeout of 2s');
    expect(run.code).toBe(4);
  });
});
