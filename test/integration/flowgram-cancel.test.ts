import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowReport } from '../../server/protocol/flowgram.js';
import type { Task } from '../../server/protocol/tasks.js';
import { lentIsolates } from '../../server/sandbox/index.js';
import { http, until } from '../helpers/clients.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import { type MockHttp, startMockHttp } from '../helpers/flowgram.js';
import * as fg from '../helpers/flowgram-schemas.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub;
let model: FakeOpenAI;
let mock: MockHttp;

beforeAll(async () => {
  model = await startFakeOpenAI();
  mock = await startMockHttp();
  hub = await startTestHub({ store: 'memory', llmMaxRetries: 0 });
});
afterAll(async () => {
  await hub?.close();
  await model?.close();
  await mock?.close();
});

const api = <T>(method: string, path: string, body?: unknown) =>
  http<T>(hub.url, hub.tokens.operator, method, path, body);

async function start(schema: unknown): Promise<string> {
  const run = await api<{ taskID: string }>('POST', '/api/task/run', {
    schema: JSON.stringify(schema),
    inputs: {},
  });
  expect(run.status).toBe(200);
  return run.body.taskID;
}

const nodeStarted = (taskID: string, node: string) =>
  until(
    async () =>
      (await hub.hub.ctx.tasks.replay(taskID, 0)).some(
        (e) => e.type === 'node_start' && e.data.node === node,
      ),
    10_000,
    `${node} to start`,
  );

async function cancelAndReport(taskID: string, node: string): Promise<FlowReport> {
  expect(await api('PUT', '/api/task/cancel', { taskID })).toEqual({ status: 200, body: { success: true } });
  const r = await api<FlowReport>('GET', `/api/task/report?taskID=${taskID}`);
  expect(r.body.workflowStatus).toMatchObject({ status: 'canceled', terminated: true });
  expect(r.body.reports[node]).toMatchObject({ status: 'canceled', terminated: true });
  expect(r.body.reports['end_0']).toBeUndefined();
  expect((await hub.hub.ctx.tasks.require(taskID)).status).toBe('cancelled');
  return r.body;
}

describe('FlowGram cancel', () => {
  it('aborts the model stream of an llm node', async () => {
    model.script({ text: 'thinking ', hang: true });
    const taskID = await start(fg.single(fg.llm('llm_0', model.url, 'go'), 'result'));
    await until(
      async () => (await hub.hub.ctx.tasks.replay(taskID, 0)).some((e) => e.type === 'token'),
      10_000,
      'a token',
    );
    // While it runs there is no result yet.
    expect((await api('GET', `/api/task/result?taskID=${taskID}`)).body).toBeNull();
    const running = await api<FlowReport>('GET', `/api/task/report?taskID=${taskID}`);
    expect(running.body.workflowStatus).toMatchObject({ status: 'processing', terminated: false });
    expect(running.body.reports['llm_0']).toMatchObject({ status: 'processing' });
    await cancelAndReport(taskID, 'llm_0');
    await until(() => model.requests.at(-1)?.closedByClient, 10_000, 'the model connection to close');
  });

  it('aborts the request of an http node', async () => {
    mock.hang();
    const taskID = await start(fg.single(fg.http('http_0', `http://${mock.host}/slow`), 'body'));
    await until(() => mock.calls.length === 1, 10_000, 'the request');
    await nodeStarted(taskID, 'http_0');
    await cancelAndReport(taskID, 'http_0');
    await until(() => mock.closed === 1, 10_000, 'the request to be aborted');
  });

  it('aborts a code node and leaves the hub running other tasks', async () => {
    const stuck = 'async function main() { await new Promise(() => {}); return { result: "never" }; }';
    const taskID = await start(fg.single(fg.code('code_0', stuck), 'result'));
    await nodeStarted(taskID, 'code_0');
    const other = await start(
      fg.single(fg.code('code_0', 'async function main() { return { result: "ok" }; }'), 'result'),
    );
    await cancelAndReport(taskID, 'code_0');
    const r = await until(async () => {
      const rep = await api<FlowReport>('GET', `/api/task/report?taskID=${other}`);
      return rep.body.workflowStatus.terminated ? rep.body : null;
    });
    expect(r.outputs).toEqual({ out: 'ok' });
  });

  it('tears down the isolate of a code node spinning in a loop: nothing keeps running after cancel', async () => {
    // The hub's code limit is far away (60 s by default): only the cancel can end these nodes now.
    const spin = 'async function main() { for (;;) {} }';
    const before = lentIsolates();
    const tasks = [await start(fg.single(fg.code('code_0', spin), 'result'))];
    tasks.push(await start(fg.single(fg.code('code_0', spin), 'result')));
    for (const t of tasks) await nodeStarted(t, 'code_0');
    // Both are spinning in isolates of their own.
    await until(() => lentIsolates() >= before + 2, 10_000, 'both isolates to be lent');
    for (const t of tasks) await cancelAndReport(t, 'code_0');
    await until(() => lentIsolates() === before, 10_000, 'the spinning isolates to be disposed');
    // And the sandbox serves the next task as usual.
    const next = await start(
      fg.single(fg.code('code_0', 'async function main() { return { result: "after" }; }'), 'result'),
    );
    const r = await until(async () => {
      const rep = await api<FlowReport>('GET', `/api/task/report?taskID=${next}`);
      return rep.body.workflowStatus.terminated ? rep.body : null;
    });
    expect(r.outputs).toEqual({ out: 'after' });
  });

  it('aborts the backoff between http retries: no attempt after the cancel', async () => {
    mock.serve([{ reject: 'down' }, { reject: 'down' }, { reject: 'down' }]);
    const taskID = await start(
      fg.single(fg.http('http_0', `http://${mock.host}/flaky`, { timeout: 10_000, retryTimes: 2 }), 'body'),
    );
    await until(() => mock.calls.length === 1, 10_000, 'the first attempt');
    await cancelAndReport(taskID, 'http_0');
    // Longer than the 1 s backoff before the second attempt: a retry that was not aborted would show here.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(mock.calls).toHaveLength(1);
  });

  it('cancels through the native task route too, and a finished task cannot be cancelled twice', async () => {
    mock.hang();
    const res = await api<Task>('POST', '/api/v1/flowgram/runs', {
      schema: fg.single(fg.http('http_0', `http://${mock.host}/native`), 'body'),
    });
    await until(() => mock.calls.length === 1, 10_000, 'the request');
    const cancelled = await api<Task>('POST', `/api/v1/tasks/${res.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    await until(() => mock.closed === 1, 10_000, 'the request to be aborted');
    expect((await api('POST', `/api/v1/tasks/${res.body.id}/cancel`)).status).toBe(409);
  });
});

describe('FlowGram timeout', () => {
  it('ends a run past its timeout as failed, with the reason in the report', async () => {
    const slow = await startTestHub({ store: 'memory', flowgramTimeoutMs: 1000 });
    try {
      mock.hang();
      const run = await http<{ taskID: string }>(slow.url, slow.tokens.operator, 'POST', '/api/task/run', {
        schema: JSON.stringify(fg.single(fg.http('http_0', `http://${mock.host}/never`), 'body')),
        inputs: {},
      });
      const r = await until(async () => {
        const rep = await http<FlowReport>(
          slow.url,
          slow.tokens.operator,
          'GET',
          `/api/task/report?taskID=${run.body.taskID}`,
        );
        return rep.body.workflowStatus.terminated ? rep.body : null;
      }, 15_000);
      expect(r.workflowStatus.status).toBe('failed');
      expect(r.reports['http_0']?.status).toBe('canceled');
      expect(r.messages['error']?.[0]?.message).toMatch(/timeout of 1s/);
      await until(() => mock.closed === 1, 10_000, 'the request to be aborted');
    } finally {
      await slow.close();
    }
  });
});
