import { afterEach, describe, expect, it } from 'vitest';
import type { HubConfig } from '../../server/config.js';
import type { Task } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { openSse } from '../helpers/sse-client.js';

let hub: TestHub;
let model: FakeOpenAI;
afterEach(async () => {
  await hub?.close();
  await model?.close();
});

async function start(config: Partial<HubConfig> = {}) {
  model = await startFakeOpenAI();
  hub = await startTestHub({
    store: 'memory',
    llmBaseUrl: model.url,
    llmModel: 'fake-gpt',
    llmMaxRetries: 0,
    ...config,
  });
}

const run = (extra: Record<string, unknown> = {}) =>
  openSse(`${hub.url}/v1/run_workflow`, {
    method: 'POST',
    token: hub.tokens.operator,
    body: JSON.stringify({ message: 'tell me a long story', ...extra }),
  });
const getTask = async (id: string) =>
  (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;

/** Starts a run on a model that streams a first chunk and then stalls, and hangs up once that chunk is in. */
async function hangUpMidAnswer(extra: Record<string, unknown> = {}): Promise<string> {
  model.script({ text: ['Once ', 'upon '], hang: true });
  const sse = await run(extra);
  const taskId = sse.headers.get('x-task-id') ?? '';
  await sse.waitFor((e) => e.event === 'message_chunk');
  sse.abort();
  return taskId;
}

describe('hanging up a /v1/run_workflow stream (on_disconnect)', () => {
  it('cancels the run and aborts its model call by default', async () => {
    await start();
    const taskId = await hangUpMidAnswer();
    await until(async () => (await getTask(taskId)).status === 'cancelled', 10_000, 'run cancelled');
    await until(() => model.requests[0]?.closedByClient, 10_000, 'the model request aborted');
    const status = (await hub.hub.ctx.tasks.replay(taskId, 0)).find(
      (e) => e.type === 'status' && e.data.status === 'cancelled',
    );
    expect(status?.type === 'status' && status.data.message).toBe('the client hung up the stream');
  });

  it('keeps going with on_disconnect: continue, to be resumed', async () => {
    await start();
    model.script({ text: ['one ', 'two ', 'three'], chunkDelayMs: 300 });
    const sse = await run({ on_disconnect: 'continue' });
    const taskId = sse.headers.get('x-task-id') ?? '';
    await sse.waitFor((e) => e.event === 'message_chunk');
    sse.abort();
    await until(async () => (await getTask(taskId)).status === 'succeeded', 15_000, 'run finished');
    expect(model.requests[0]?.closedByClient).toBe(false);
    const resumed = await openSse(`${hub.url}/v1/run_workflow/${taskId}/events`, {
      token: hub.tokens.viewer,
    });
    await resumed.ended;
    expect(resumed.events.at(-1)?.event).toBe('done');
  });

  it('takes its default from SWITCHBOARD_WORKFLOW_ON_DISCONNECT, and the payload overrides it', async () => {
    await start({ workflowOnDisconnect: 'continue' });
    model.script({ text: ['a ', 'b'], chunkDelayMs: 300 });
    const sse = await run();
    const kept = sse.headers.get('x-task-id') ?? '';
    await sse.waitFor((e) => e.event === 'message_chunk');
    sse.abort();
    await until(async () => (await getTask(kept)).status === 'succeeded', 15_000, 'run finished');
    model.requests.length = 0;
    const cancelled = await hangUpMidAnswer({ on_disconnect: 'cancel' });
    await until(async () => (await getTask(cancelled)).status === 'cancelled', 10_000, 'run cancelled');
    await until(() => model.requests[0]?.closedByClient, 10_000, 'the model request aborted');
  });

  it('refuses an unknown on_disconnect, naming the field', async () => {
    await start();
    const res = await http<{ error: { field: string } }>(
      hub.url,
      hub.tokens.operator,
      'POST',
      '/v1/run_workflow',
      {
        message: 'x',
        on_disconnect: 'rollback',
      },
    );
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('on_disconnect');
  });
});
