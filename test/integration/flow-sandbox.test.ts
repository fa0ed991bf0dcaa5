import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FlowNodeProgress, SwitchboardClient } from '../../client/sdk/index.js';
import { expectedResults, loopInputs, loopSchema } from '../helpers/flowgram-loop.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

const RUNAWAY = 'async function main() { while (true) {} }';
const BOMB = 'async function main() { const hoard = []; for (;;) hoard.push(new Array(100000).fill(1.5)) }';
// A steady worker: each iteration awaits a timer inside the sandbox, so the task is running for a while.
const STEADY = `async function main({ params }) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { doubled: params.item * 2 };
}`;

/** The error a flowgram task's code node ended with, from its FlowGram report. */
async function codeError(client: SwitchboardClient, taskId: string): Promise<string | undefined> {
  const report = await client.flowReport(taskId);
  return report.reports['code_0']?.snapshots.at(-1)?.error;
}

describe('flowgram code nodes in a real hub: sandbox limits, isolation and the SDK', {
  timeout: 90_000,
}, () => {
  let hub: TestHub;
  let client: SwitchboardClient;

  beforeAll(async () => {
    // Limits with room for a loaded CI machine; the bombs end on these, never on a test timeout.
    hub = await startTestHub({ store: 'memory', flowgramCodeTimeoutMs: 5_000, flowgramCodeMemoryMb: 16 });
    client = new SwitchboardClient({ url: hub.url, token: hub.tokens.operator, requestTimeoutMs: 30_000 });
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    await hub?.close();
  });

  it('an infinite loop and a memory bomb fail their own nodes clearly; the hub and a running task carry on', async () => {
    // 600 iterations of at least 20 ms each (12 s): still running when the runaway node hits its 5 s limit.
    const steady = await client.runFlow(loopSchema(STEADY), loopInputs(600));
    // Let the steady task get going before the bombs go off beside it.
    for await (const { step } of client.followFlow(steady.id)) {
      if (step?.kind === 'end' && step.node.id === 'code_0') break;
    }
    const runaway = await client.runFlow(loopSchema(RUNAWAY), loopInputs(1));
    const bomb = await client.runFlow(loopSchema(BOMB), loopInputs(1));

    // While the runaway loop spins, the hub answers HTTP and the socket.
    const health = await fetch(`${hub.url}/health`);
    expect(health.status).toBe(200);
    expect((await client.get(runaway.id)).status).toBe('running');
    await expect(client.list({ kind: 'flowgram' })).resolves.toMatchObject({ tasks: expect.any(Array) });

    const [r, b] = await Promise.all([client.waitFor(runaway.id), client.waitFor(bomb.id)]);
    // Both bombs are over, and the steady task was running beside them the whole time.
    expect((await client.get(steady.id)).status).toBe('running');
    const s = await client.waitFor(steady.id);
    expect(r.status).toBe('failed');
    expect(await codeError(client, runaway.id)).toContain('Code node timed out after 5000ms');
    expect(b.status).toBe('failed');
    expect(await codeError(client, bomb.id)).toContain('Code node exceeded its memory limit of 16 MB');
    expect(s.status).toBe('succeeded');
    const report = await client.flowReport(steady.id);
    expect(report.outputs).toEqual({ results: expectedResults(600) });
    expect(report.reports['code_0']?.snapshots).toHaveLength(600);
  });

  it('a loop body that runs away in a later iteration fails there; the sandbox is fresh for the next task', async () => {
    // Iterations share the code node's isolate (one session per task); the third one spins.
    const code = `async function main({ params }) {
      globalThis.seen = (globalThis.seen ?? 0) + 1;
      if (params.item === 2) while (true) {}
      return { doubled: params.item * 2, index: globalThis.seen };
    }`;
    const failing = await client.runFlow(loopSchema(code), loopInputs(5));
    expect((await client.waitFor(failing.id)).status).toBe('failed');
    const snaps = (await client.flowReport(failing.id)).reports['code_0']?.snapshots ?? [];
    expect(snaps.map((s) => s.outputs?.['index'] ?? s.error)).toEqual([
      1,
      2,
      'Code execution failed: Code node timed out after 5000ms',
    ]);
    // A new task of the same schema starts its own session: its count starts at one again.
    const next = await client.runFlow(loopSchema(code), { items: [0, 1, 3] });
    expect((await client.waitFor(next.id)).status).toBe('succeeded');
    const again = (await client.flowReport(next.id)).reports['code_0']?.snapshots ?? [];
    expect(again.map((s) => s.outputs?.['index'])).toEqual([1, 2, 3]);
  });

  it('a code node cannot reach process, require, import() or the network', async () => {
    const probe = `async function main() {
      const seen = ['process', 'require', 'module', 'fetch', 'XMLHttpRequest', 'WebSocket', 'Buffer']
        .filter((name) => typeof globalThis[name] !== 'undefined');
      let imported = 'no';
      try { await import('node:fs'); imported = 'yes'; } catch (e) { imported = e.message; }
      return { doubled: 0, seen, imported, viaFunction: Function('return typeof process')() };
    }`;
    const task = await client.runFlow(loopSchema(probe), loopInputs(1));
    expect((await client.waitFor(task.id)).status).toBe('succeeded');
    const report = await client.flowReport(task.id);
    expect(report.reports['code_0']?.snapshots[0]?.outputs).toMatchObject({
      seen: [],
      imported: 'Not supported',
      viaFunction: 'undefined',
    });

    const direct = await client.runFlow(
      loopSchema('async function main() { return process.env }'),
      loopInputs(1),
    );
    expect((await client.waitFor(direct.id)).status).toBe('failed');
    expect(await codeError(client, direct.id)).toContain('process is not defined');
  });

  it('cancel aborts a code node that is still running, and the next task runs normally', async () => {
    // A hub whose code timeout is far beyond the test's: only the cancel can end this node in time.
    const slow = await startTestHub({ store: 'memory', flowgramCodeTimeoutMs: 600_000 });
    const c = new SwitchboardClient({ url: slow.url, token: slow.tokens.operator });
    try {
      const task = await c.runFlow(loopSchema(RUNAWAY), loopInputs(1));
      for await (const { step } of c.followFlow(task.id)) {
        if (step?.kind === 'start' && step.node.id === 'code_0') break;
      }
      await c.cancel(task.id);
      const ended = await c.waitFor(task.id);
      expect(ended.status).toBe('cancelled');
      const after = await c.runFlow(loopSchema(), loopInputs(3));
      expect((await c.waitFor(after.id)).status).toBe('succeeded');
      expect((await c.flowReport(after.id)).outputs).toEqual({ results: expectedResults(3) });
    } finally {
      await c.close();
      await slow.close();
    }
  });

  it('SDK: validateFlow, followFlow progress, and the FlowGram API by task id', async () => {
    await expect(client.validateFlow(loopSchema(), loopInputs(2))).resolves.toEqual({ valid: true });
    const invalid = await client.validateFlow(loopSchema(), { items: 'nope' });
    expect(invalid.valid).toBe(false);
    expect(invalid.errors?.join('\n')).toMatch(/items/);

    const task = await client.runFlow(loopSchema(), loopInputs(4));
    expect(task.kind).toBe('flowgram');
    const steps: string[] = [];
    let last: FlowNodeProgress[] = [];
    async function collect(): Promise<FlowNodeProgress[]> {
      for await (const update of client.followFlow(task.id)) {
        if (update.step) steps.push(`${update.step.kind}:${update.step.node.id}#${update.step.run}`);
        last = update.progress.nodes;
      }
      return last;
    }
    const nodes = await collect();
    expect(steps[0]).toBe('start:start_0#1');
    expect(steps).toContain('end:code_0#4');
    expect(steps.at(-1)).toBe('end:end_0#1');
    const code = nodes.find((n) => n.id === 'code_0');
    expect(code).toMatchObject({ state: 'succeeded', runs: 4, parent: 'loop_0', type: 'code' });
    expect(nodes.every((n) => n.state === 'succeeded')).toBe(true);

    // The FlowGram-compatible API answers for the same task id.
    await expect(client.flowgram.result(task.id)).resolves.toEqual({ results: expectedResults(4) });
    const report = await client.flowgram.report(task.id);
    expect(report.workflowStatus.status).toBe('succeeded');
    const { taskID } = await client.flowgram.run(loopSchema(RUNAWAY), loopInputs(1));
    await expect(client.flowgram.cancel(taskID)).resolves.toBe(true);
    expect((await client.waitFor(taskID)).status).toBe('cancelled');
  });
});
