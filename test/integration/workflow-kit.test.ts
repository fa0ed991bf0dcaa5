import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReferenceHost } from '../../extension-bridge/host/index.js';
import type { Task, TaskEvent, TaskPage } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { type FakeOpenAI, type FakeRequest, startFakeOpenAI } from '../helpers/fake-openai.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub;
let model: FakeOpenAI;
let host: ReferenceHost;

beforeEach(async () => {
  model = await startFakeOpenAI();
  hub = await startTestHub({
    store: 'memory',
    llmBaseUrl: model.url,
    llmModel: 'fake-coder',
    llmMaxRetries: 0,
  });
  host = new ReferenceHost({
    url: hub.url,
    token: hub.tokens.extension,
    name: 'kit-standin',
    labels: ['kit'],
  });
  await host.start();
});
afterEach(async () => {
  await host?.stop();
  await hub?.close();
  await model?.close();
});

const BROKEN = 'values = [1, 2, 3]\nprint("sum so far", sum(values))\nvalues[5]';
const FIXED = 'values = [1, 2, 3]\nprint("sum", sum(values))\nvalues[-1]';

/** The latest tool message the model was sent, parsed. */
function lastToolResult(req: FakeRequest): { status?: string; traceback?: string | null } | null {
  const last = req.body.messages.at(-1);
  return last?.role === 'tool' ? (JSON.parse(String(last.content)) as { status?: string }) : null;
}

async function ended(id: string, ms = 20_000): Promise<Task> {
  return until(
    async () => {
      const t = (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;
      return ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(t.status) ? t : null;
    },
    ms,
    `task ${id} to end`,
  );
}

describe('omniverse_agent on a real extension', () => {
  it('runs code that raises, reads the traceback, runs a fixed version, and reports', async () => {
    model.respond((req) => {
      const result = lastToolResult(req);
      if (!result)
        return {
          text: 'I will sum the values. ',
          toolCalls: [{ name: 'kit_execute', arguments: { code: BROKEN } }],
        };
      if (result.status === 'failed' && result.traceback?.includes('IndexError'))
        return {
          text: 'That index is out of range; fixing. ',
          toolCalls: [{ name: 'kit_execute', arguments: { code: FIXED } }],
        };
      return { text: 'Fixed the IndexError: the last value is 3 and the sum is 6.' };
    });
    const started = await http<Task>(
      hub.url,
      hub.tokens.operator,
      'POST',
      '/api/v1/workflows/omniverse_agent/runs',
      {
        message: 'Print the sum of [1, 2, 3] and return the last value',
        runtime_config: { kit: { target: { label: 'kit' }, max_attempts: 3 } },
      },
    );
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const task = await ended(started.body.id);
    expect(task.status).toBe('succeeded');
    expect(task.result).toMatchObject({
      attempts: 2,
      succeeded: true,
      lastRun: { status: 'succeeded', result: 3 },
    });
    expect((task.result as { content: string }).content).toContain('Fixed the IndexError');

    // The model got a system prompt and only the kit_execute tool; then the traceback in the tool result.
    expect(model.requests[0]?.body.messages[0]?.role).toBe('system');
    expect(model.requests[0]?.body.tools?.map((t) => t.function.name)).toEqual(['kit_execute']);
    const firstResult = lastToolResult(model.requests[1]!);
    expect(firstResult).toMatchObject({ status: 'failed', error: expect.stringMatching(/IndexError/) });
    expect(firstResult?.traceback).toMatch(/Traceback[\s\S]*IndexError: list index out of range/);

    // Each run is a child code task of the workflow, on the extension.
    const children = (
      await http<TaskPage>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks?parentId=${task.id}`)
    ).body.tasks;
    expect(children.map((c) => [c.kind, c.status]).reverse()).toEqual([
      ['code', 'failed'],
      ['code', 'succeeded'],
    ]);
    expect(children.every((c) => c.extensionId === host.id)).toBe(true);

    // Watchers of the workflow see the children's output in its own room, between tool_start and tool_result.
    const events: TaskEvent[] = await hub.hub.ctx.tasks.replay(task.id, 0);
    const outputs = events
      .filter((e) => e.type === 'output')
      .map((e) => (e.data as { text: string }).text)
      .join('');
    expect(outputs).toContain('sum so far 6');
    expect(outputs).toContain('sum 6');
    const kinds = events.map((e) => e.type);
    const firstOutput = kinds.indexOf('output');
    expect(kinds.indexOf('tool_start')).toBeLessThan(firstOutput);
    expect(kinds.indexOf('tool_result')).toBeGreaterThan(firstOutput);
  });

  it('stops after max_attempts runs and reports the failure', async () => {
    model.respond((req) =>
      req.body.tools?.length
        ? { toolCalls: [{ name: 'kit_execute', arguments: { code: 'raise ValueError("still broken")' } }] }
        : { text: 'I could not make it work.' },
    );
    const started = await http<Task>(
      hub.url,
      hub.tokens.operator,
      'POST',
      '/api/v1/workflows/omniverse_agent/runs',
      {
        message: 'do something',
        runtime_config: { kit: { max_attempts: 2 } },
      },
    );
    const task = await ended(started.body.id);
    expect(task.status).toBe('succeeded');
    expect(task.result).toMatchObject({
      attempts: 2,
      succeeded: false,
      content: 'I could not make it work.',
    });
    // Once the budget is spent the tool is withdrawn, so the model has to answer.
    expect(model.requests.at(-1)?.body.tools).toBeUndefined();
  });

  it('cancelling the workflow during kit_execute cancels the child code task on the extension', async () => {
    model.script({
      toolCalls: [
        {
          name: 'kit_execute',
          arguments: { code: 'import time\nprint("sleeping", flush=True)\ntime.sleep(30)' },
        },
      ],
    });
    const started = await http<Task>(
      hub.url,
      hub.tokens.operator,
      'POST',
      '/api/v1/workflows/omniverse_agent/runs',
      { message: 'sleep' },
    );
    const workflowId = started.body.id;
    const child = await until(
      async () => {
        const page = (
          await http<TaskPage>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks?parentId=${workflowId}`)
        ).body;
        return page.tasks.find((t) => t.status === 'running');
      },
      10_000,
      'the child to run',
    );
    const t0 = Date.now();
    const res = await http<Task>(hub.url, hub.tokens.operator, 'POST', `/api/v1/tasks/${workflowId}/cancel`);
    expect(res.body.status).toBe('cancelled');
    const childTask = await ended(child.id, 1_000);
    expect(childTask.status).toBe('cancelled');
    expect(Date.now() - t0).toBeLessThan(1_000);
    await until(() => host.running.size === 0, 5_000, 'the host to stop the job');
  });

  it('the demo model drives the Kit agent end to end on the extension', async () => {
    const started = await http<Task>(
      hub.url,
      hub.tokens.operator,
      'POST',
      '/api/v1/workflows/omniverse_agent/runs',
      {
        message: 'show me where I am',
        model: 'switchboard-demo',
      },
    );
    const task = await ended(started.body.id);
    expect(task.result).toMatchObject({
      attempts: 1,
      succeeded: true,
      lastRun: { status: 'succeeded', result: 'hello from switchboard-demo' },
    });
    expect((task.result as { content: string }).content).toMatch(
      /The code succeeded: Not inside Kit; Python 3/,
    );
  });

  it('tells the model when no extension is online instead of waiting', async () => {
    await host.stop();
    await until(() => hub.hub.ctx.registry.all().length === 0, 5_000, 'the host to leave');
    model.respond((req) =>
      lastToolResult(req)
        ? { text: 'No extension is online.' }
        : { toolCalls: [{ name: 'kit_execute', arguments: { code: 'print(1)' } }] },
    );
    const started = await http<Task>(
      hub.url,
      hub.tokens.operator,
      'POST',
      '/api/v1/workflows/omniverse_agent/runs',
      { message: 'x' },
    );
    const task = await ended(started.body.id);
    expect(task.result).toMatchObject({ succeeded: false, lastRun: { status: 'not_run' } });
  });
});
