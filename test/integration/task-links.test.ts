import { afterEach, describe, expect, it } from 'vitest';
import type { Task, TaskEvent, TaskPage, TaskSummary } from '../../server/protocol/index.js';
import { call, http, type MonitorSocket, monitorClient } from '../helpers/clients.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { type ScriptedExtension, scriptedExtension } from '../helpers/scripted-extension.js';

let hub: TestHub | undefined;
let model: FakeOpenAI | undefined;
let exts: ScriptedExtension[] = [];
let feed: MonitorSocket | undefined;
afterEach(async () => {
  feed?.disconnect();
  for (const e of exts) e.socket.disconnect();
  exts = [];
  await hub?.close();
  await model?.close();
  hub = undefined;
  model = undefined;
});

const get = <T>(h: TestHub, path: string) => http<T>(h.url, h.tokens.viewer, 'GET', path);

describe('what a list or a page opened late can show without live events', () => {
  it.each(['memory', 'sqlite'] as const)(
    'a queued task carries why it waits in its record and its summary (%s store), until it runs',
    async (store) => {
      hub = await startTestHub({ store });
      const h = hub;
      const sent = await http<Task>(h.url, h.tokens.operator, 'POST', '/api/v1/tasks', {
        code: 'print("gpu")',
        target: { label: 'gpu' },
      });
      expect(sent.status).toBe(201);
      const id = sent.body.id;
      const waiting = {
        reason: 'no_extension',
        message: 'no extension is connected (the task needs the label gpu)',
      };
      await expect
        .poll(async () => (await get<Task>(h, `/api/v1/tasks/${id}`)).body.waiting)
        .toEqual(waiting);
      const listed = (await get<TaskPage>(h, '/api/v1/tasks?status=queued')).body.tasks.find(
        (t) => t.id === id,
      );
      expect(listed?.waiting).toEqual(waiting);

      // The reason moves with the hub: an extension without the label comes online.
      exts.push(await scriptedExtension(h.url, h.tokens.extension, { name: 'plain', labels: [] }));
      await expect
        .poll(async () => (await get<Task>(h, `/api/v1/tasks/${id}`)).body.waiting)
        .toEqual({ reason: 'no_match', message: 'no extension has the label gpu' });

      // The socket's list says the same.
      feed = await monitorClient(h.url, h.tokens.viewer);
      const page = await call<TaskPage>(feed, 'task:list', { status: 'queued' });
      expect(page.ok && page.data.tasks.find((t) => t.id === id)?.waiting?.reason).toBe('no_match');

      // Taken by a host with the label: the field is gone from the record, the list and the feed's summary.
      const summaries: TaskSummary[] = [];
      feed.on('task:summary', (s) => summaries.push(s));
      await call(feed, 'feed:subscribe', {});
      exts.push(await scriptedExtension(h.url, h.tokens.extension, { name: 'gpu', labels: ['gpu'] }));
      await expect
        .poll(async () => (await get<Task>(h, `/api/v1/tasks/${id}`)).body.status)
        .toBe('succeeded');
      const done = await get<Task>(h, `/api/v1/tasks/${id}`);
      expect(done.body).not.toHaveProperty('waiting');
      const dispatched = summaries.find((s) => s.id === id && s.status === 'dispatched');
      expect(dispatched).toBeDefined();
      expect(dispatched).not.toHaveProperty('waiting');
      const after = (await get<TaskPage>(h, '/api/v1/tasks?limit=10')).body.tasks.find((t) => t.id === id);
      expect(after).not.toHaveProperty('waiting');
    },
    60_000,
  );

  it("a kit_execute child task names the tool call it runs for from its creation, before the call's result", async () => {
    model = await startFakeOpenAI();
    hub = await startTestHub({ store: 'memory' });
    const h = hub;
    model.script(
      { toolCalls: [{ id: 'call-a', name: 'kit_execute', arguments: { code: 'print(1)' } }] },
      { toolCalls: [{ id: 'call-b', name: 'kit_execute', arguments: { code: 'print(2)' } }] },
      { text: 'done' },
    );
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const ext = await scriptedExtension(h.url, h.tokens.extension, { name: 'kit' }, async (api) => {
      await api.started();
      if (api.job.code === 'print(1)') await gate;
      await api.result({ status: 'succeeded', result: api.job.code });
    });
    exts.push(ext);
    feed = await monitorClient(h.url, h.tokens.viewer);
    const summaries: TaskSummary[] = [];
    feed.on('task:summary', (s) => summaries.push(s));
    await call(feed, 'feed:subscribe', {});
    const run = await http<Task>(h.url, h.tokens.operator, 'POST', '/api/v1/workflows/omniverse_agent/runs', {
      message: 'print twice',
      runtime_config: { model: { model_name: 'fake', base_url: model.url, api_key: 'sk-test-key-000000' } },
    });
    expect(run.status).toBe(201);
    const parent = run.body.id;

    // While the first call still runs (no result yet), its child already names it.
    await expect.poll(() => ext.jobs.length).toBe(1);
    const first = ext.jobs[0]?.taskId ?? '';
    const record = await get<Task>(h, `/api/v1/tasks/${first}`);
    expect(record.body).toMatchObject({ parentId: parent, parentCallId: 'call-a', status: 'running' });
    const events: TaskEvent[] = await h.hub.ctx.tasks.replay(parent, 0);
    expect(events.some((e) => e.type === 'tool_start')).toBe(true);
    expect(events.some((e) => e.type === 'tool_result')).toBe(false);
    expect(summaries.find((s) => s.id === first)?.parentCallId).toBe('call-a');

    release();
    await expect
      .poll(async () => (await get<Task>(h, `/api/v1/tasks/${parent}`)).body.status)
      .toBe('succeeded');
    const children = (await get<TaskPage>(h, `/api/v1/tasks?parentId=${parent}`)).body.tasks;
    expect(children.map((c) => c.parentCallId).sort()).toEqual(['call-a', 'call-b']);
    // A task submitted from outside names no call.
    const plain = await http<Task>(h.url, h.tokens.operator, 'POST', '/api/v1/tasks', { code: 'print(3)' });
    expect(plain.body).not.toHaveProperty('parentCallId');
  }, 60_000);
});
