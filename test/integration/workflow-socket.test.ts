import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../server/protocol/index.js';
import { call, eventsUntilEnd, monitorClient, until } from '../helpers/clients.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let testHub: TestHub;
let model: FakeOpenAI;

beforeAll(async () => {
  model = await startFakeOpenAI();
  testHub = await startTestHub({ store: 'memory', llmMaxRetries: 0 });
});
afterAll(async () => {
  await testHub?.close();
  await model?.close();
});

describe('workflows over Socket.IO', () => {
  it('workflows:list, workflow:start (ack: the task), then task:subscribe follows it to the end', async () => {
    model.script({ text: 'hello over sockets' });
    const socket = await monitorClient(testHub.url, testHub.tokens.operator);
    try {
      const list = await call<Array<{ name: string; inputSchema: object }>>(socket, 'workflows:list', {});
      expect(list.ok && list.data.map((w) => w.name)).toEqual(['agent_chat', 'omniverse_agent']);
      const started = await call<Task>(socket, 'workflow:start', {
        workflow: 'agent_chat',
        message: 'hi',
        runtime_config: { model: { model_name: 'fake', base_url: model.url } },
      });
      if (!started.ok) throw new Error(JSON.stringify(started.error));
      expect(started.data).toMatchObject({ kind: 'workflow', status: 'running' });
      const ended = eventsUntilEnd(socket, started.data.id);
      await call(socket, 'task:subscribe', { taskId: started.data.id });
      const events = await ended;
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(
        events
          .filter((e) => e.type === 'token')
          .map((e) => (e.data as { text: string }).text)
          .join(''),
      ).toBe('hello over sockets');
      expect(events.find((e) => e.type === 'done')?.data).toMatchObject({
        usage: { totalTokens: 15 },
        finishReason: 'stop',
      });
      // task:cancel stops a streaming run the same way as the HTTP cancel.
      model.script({ text: 'never ', hang: true });
      const slow = await call<Task>(socket, 'workflow:start', {
        workflow: 'agent_chat',
        message: 'hang',
        runtime_config: { model: { model_name: 'fake', base_url: model.url } },
      });
      if (!slow.ok) throw new Error(JSON.stringify(slow.error));
      await until(
        async () => (await testHub.hub.ctx.tasks.replay(slow.data.id, 0)).some((e) => e.type === 'token'),
        5_000,
        'a token',
      );
      const cancelled = await call<Task>(socket, 'task:cancel', { taskId: slow.data.id });
      expect(cancelled.ok && cancelled.data.status).toBe('cancelled');
      await until(() => model.requests.at(-1)?.closedByClient, 1_000, 'the model connection to close');

      const bad = await call(socket, 'workflow:start', { workflow: 'agent_chat', input: { messages: 'hi' } });
      expect(bad.ok).toBe(false);
      if (!bad.ok) expect(bad.error.field).toBe('input.messages');
    } finally {
      socket.close();
    }
  });
});
