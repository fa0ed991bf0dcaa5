import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { monitorTestHub, openNewTask, viewShot, waitConnected } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { http } from '../helpers/clients.js';
import { loopInputs, loopSchema } from '../helpers/flowgram-loop.js';

/**
 * The "Done when", walked as a new user: sign in, start an omniverse_agent run from the New task dialog
 * and a FlowGram run from the CLI, watch both graphs light up node by node, open a running tool call's child
 * task, and see queue and throughput move on the overview while tasks run. A screenshot per view goes to
 * test-artifacts/views/monitor-walkthrough/.
 */
const kit = monitorTestHub();
const scratch = mkdtempSync(join(tmpdir(), 'sb-walk-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const KIT_CODE = 'import omni.usd\nstage = omni.usd.get_context().get_stage()\nprint("prims:", 3)\n3';
// Each iteration waits inside the sandbox, so the run is seen between its iterations.
const PACED = `async function main({ params }) {
  await new Promise((resolve) => setTimeout(resolve, 250));
  return { doubled: params.item * 2 };
}`;

const node = (page: Page, id: string) => page.locator(`[data-testid=run-graph] [data-node="${id}"]`);
const nodeState = (page: Page, id: string) => node(page, id).getAttribute('data-state');
/** The node is on screen where a user looks, not scrolled away or under another pane: what is at its centre. */
async function onScreen(page: Page, id: string): Promise<boolean> {
  const box = await node(page, id).boundingBox();
  if (!box) return false;
  return page.evaluate(
    ([x, y, want]) =>
      (document.elementFromPoint(x, y)?.closest('[data-node]') as HTMLElement | null)?.dataset['node'] ===
      want,
    [box.x + box.width / 2, box.y + box.height / 2, id] as const,
  );
}
const status = (page: Page) => page.getByTestId('task-status').getAttribute('data-status');

describe('the operations console, walked as a new user', () => {
  it('graphs light up node by node, a tool call opens its child task, the overview moves while tasks run', async () => {
    const hub = await kit.hub({ store: 'memory', statsSampleMs: 250 });
    const model = await kit.model();
    model.script(
      {
        text: 'Counting the prims. ',
        toolCalls: [{ id: 'k1', name: 'kit_execute', arguments: { code: KIT_CODE } }],
      },
      { text: 'The stage has 3 prims.' },
    );
    // One Kit host with one slot; every job waits until the test lets it go.
    const gates = new Map<string, () => void>();
    const opened = new Map<string, Promise<void>>();
    const gate = (code: string) => {
      if (!opened.has(code)) opened.set(code, new Promise<void>((r) => gates.set(code, r)));
      return opened.get(code) as Promise<void>;
    };
    const release = (code: string) => {
      void gate(code);
      gates.get(code)?.();
    };
    const ext = await kit.extension(hub, { name: 'kit', labels: ['kit'], concurrency: 1 }, async (api) => {
      await api.started();
      await api.output(api.job.code === KIT_CODE ? 'prims: 3\n' : `rendering ${api.job.code}\n`);
      await gate(api.job.code);
      await api.result({ status: 'succeeded', result: api.job.code === KIT_CODE ? 3 : 'ok' });
    });

    // Sign in with a token, as the hub's banner says.
    const { page, errors } = await kit.open(hub, { token: null });
    await page.getByTestId('token-input').fill(hub.tokens.operator);
    await viewShot(page, '01-sign-in');
    await page.getByTestId('signin-submit').click();
    await waitConnected(page);
    await expect
      .poll(() => page.locator(`[data-extension-id="${ext.extensionId}"], [data-testid=extensions]`).count())
      .toBeGreaterThan(0);
    await viewShot(page, '02-signed-in');

    // The Kit agent, from the New task dialog, on the local model.
    await expect.poll(() => page.getByTestId('workflow-form').getAttribute('data-state')).toBe('ready');
    await openNewTask(page, 'workflow');
    await page.getByTestId('workflow-select').selectOption('omniverse_agent');
    await page.getByTestId('workflow-message').fill('How many prims are on the stage?');
    await page.getByTestId('workflow-model').fill('fake-model');
    await page.getByTestId('workflow-base-url').fill(model.url);
    await page.getByTestId('workflow-api-key').fill('sk-walkthrough-0000');
    await viewShot(page, '03-new-task-workflow');
    await page.getByTestId('workflow-start').click();
    await expect.poll(() => page.getByTestId('task-view').getAttribute('data-task-id')).toMatch(/^t_/);
    const agentId = (await page.getByTestId('task-view').getAttribute('data-task-id')) ?? '';

    // The graph lights up: entry and agent done, the tools node running the Kit code, the exit still ahead.
    await expect.poll(() => nodeState(page, 'tools')).toBe('running');
    expect(await nodeState(page, '__start__')).toBe('succeeded');
    expect(await nodeState(page, 'agent')).toBe('succeeded');
    expect(await nodeState(page, '__end__')).toBe('waiting');
    // The whole graph is in view, not below a long input.
    for (const id of ['__start__', 'agent', 'tools', '__end__'])
      expect(await onScreen(page, id), id).toBe(true);
    await expect.poll(() => ext.jobs.length).toBe(1);
    const childId = ext.jobs[0]?.taskId ?? '';
    // The running call links to its child task (no result yet): the link is the child's own.
    const call = page.locator('[data-testid=tool-call][data-call-id="k1"]');
    await expect.poll(() => call.getAttribute('data-child-id')).toBe(childId);
    expect(await call.getAttribute('data-state')).toBeNull();
    await viewShot(page, '04-agent-running');

    // Open the child from the call: its output so far, its parent.
    await call.getByTestId('tool-child').click();
    await expect.poll(() => page.getByTestId('task-id').textContent()).toBe(childId);
    expect(await page.getByTestId('task-parent').textContent()).toBe(agentId);
    await expect.poll(() => page.getByTestId('console').first().textContent()).toContain('prims: 3');
    await viewShot(page, '05-child-task');

    // Back to the run; the Kit code finishes and the agent's second turn ends it.
    await page.goBack();
    await expect.poll(() => page.getByTestId('task-id').textContent()).toBe(agentId);
    release(KIT_CODE);
    await expect.poll(() => status(page)).toBe('succeeded');
    await expect.poll(() => nodeState(page, '__end__')).toBe('succeeded');
    expect(await node(page, 'agent').getAttribute('data-runs')).toBe('2');
    expect(await page.getByTestId('graph-summary').textContent()).toMatch(/^4\/4 nodes settled/);
    await viewShot(page, '06-agent-done');

    // A FlowGram run from the CLI; the user finds it in the list and watches its loop go round.
    const schemaFile = join(scratch, 'loop.json');
    const inputsFile = join(scratch, 'inputs.json');
    writeFileSync(schemaFile, JSON.stringify(loopSchema(PACED)));
    writeFileSync(inputsFile, JSON.stringify(loopInputs(24)));
    const cli = { SWITCHBOARD_URL: hub.url, SWITCHBOARD_TOKEN: hub.tokens.operator };
    const started = await runCli(['flow', 'run', schemaFile, '--inputs', inputsFile], cli);
    expect(started.code, started.stderr).toBe(0);
    const flowId = started.stdout.trim();
    expect(flowId).toMatch(/^t_/);
    await page.locator(`[data-testid=task-row][data-task-id="${flowId}"] a`).click();
    const iterations = async () => Number(await node(page, 'loop_0').getAttribute('data-iterations'));
    await expect.poll(iterations).toBeGreaterThanOrEqual(2);
    expect(await nodeState(page, 'start_0')).toBe('succeeded');
    expect(await nodeState(page, 'loop_0')).toBe('running');
    expect(await nodeState(page, 'end_0')).toBe('waiting');
    for (const id of ['start_0', 'loop_0', 'code_0']) expect(await onScreen(page, id), id).toBe(true);
    const seen = await iterations();
    await viewShot(page, '07-flowgram-running');
    await expect.poll(iterations).toBeGreaterThan(seen);
    await expect.poll(() => status(page), { timeout: 30_000 }).toBe('succeeded');
    await expect.poll(() => nodeState(page, 'end_0')).toBe('succeeded');
    expect(await iterations()).toBe(24);
    expect(await node(page, 'code_0').getAttribute('data-runs')).toBe('24');
    await viewShot(page, '08-flowgram-done');

    // The overview while work queues up on the one slot, then drains.
    await page.getByTestId('nav-overview').click();
    const chart = (name: string, what: string) =>
      page.getByTestId(`chart-${name}`).getAttribute(`data-${what}`);
    await expect
      .poll(async () => Number(await chart('queue', 'points')), { timeout: 20_000 })
      .toBeGreaterThan(1);
    const jobs = ['render-1', 'render-2', 'render-3', 'render-4'];
    for (const code of jobs) {
      const res = await http(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code });
      expect(res.status).toBe(201);
    }
    const queued = async () => Number((await chart('queue', 'last'))?.split(',')[0]);
    await expect.poll(queued, { timeout: 20_000 }).toBe(3);
    await expect
      .poll(() => page.locator(`[data-extension="${ext.extensionId}"]`).getAttribute('data-state'))
      .toBe('busy');
    await viewShot(page, '09-overview-busy');
    const finished = async () => Number((await chart('throughput', 'last'))?.split(',')[1]);
    for (const code of jobs) release(code);
    await expect.poll(queued, { timeout: 20_000 }).toBe(0);
    await expect
      .poll(async () => Number((await chart('throughput', 'max'))?.split(',')[1]), { timeout: 20_000 })
      .toBeGreaterThan(0);
    expect(Number.isFinite(await finished())).toBe(true);
    await viewShot(page, '10-overview-drained');

    // Back to the tasks: the run's children sit under it.
    await page.getByTestId('nav-tasks').click();
    const childRow = page.locator(`[data-testid=task-row][data-task-id="${childId}"]`);
    await expect.poll(() => childRow.getAttribute('data-parent-id')).toBe(agentId);
    await viewShot(page, '11-task-list');
    expect(errors).toEqual([]);
  }, 180_000);
});
