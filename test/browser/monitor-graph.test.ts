import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { SwitchboardClient } from '../../client/sdk/index.js';
import type { Task } from '../../server/protocol/index.js';
import { type MonitorSession, monitorTestHub, screenshot } from '../helpers/browser.js';
import { http } from '../helpers/clients.js';
import { loopInputs, loopSchema } from '../helpers/flowgram-loop.js';
import type { TestHub } from '../helpers/hub.js';

const kit = monitorTestHub();
let hub: TestHub | undefined;
let session: MonitorSession | undefined;

const KIT_CODE =
  'import omni.usd\nstage = omni.usd.get_context().get_stage()\nprint("prims:", len(list(stage.Traverse())))';

// Each iteration waits inside the sandbox, so the page sees the loop between its iterations.
const PACED = `async function main({ params }) {
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { doubled: params.item * 2 };
}`;

const graphNode = (page: Page, id: string) => page.locator(`[data-testid=run-graph] [data-node="${id}"]`);
const state = (page: Page, id: string) => graphNode(page, id).getAttribute('data-state');
const runs = async (page: Page, id: string) => Number(await graphNode(page, id).getAttribute('data-runs'));
const fact = (page: Page, key: string) => page.locator(`.facts [data-fact="${key}"]`);

async function open(hash: string): Promise<Page> {
  if (!hub) throw new Error('no hub');
  session = await kit.open(hub, { hash });
  return session.page;
}

// Long, many-step browser runs: room for a loaded 2-core machine.
describe('run graphs, child tasks and waiting reasons in the monitor', () => {
  it('an omniverse_agent run lights up node by node; its kit_execute call opens its child code task', async () => {
    hub = await kit.hub({ store: 'memory' });
    const model = await kit.model();
    model.script(
      { toolCalls: [{ id: 'k1', name: 'kit_execute', arguments: { code: KIT_CODE } }] },
      { text: 'The stage has 3 prims.' },
    );
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const ext = await kit.extension(hub, { name: 'kit' }, async (api) => {
      await api.started();
      await api.output('prims: 3\n');
      await gate;
      await api.result({ status: 'succeeded', result: 3 });
    });
    const started = await http<Task>(
      hub.url,
      hub.tokens.operator,
      'POST',
      '/api/v1/workflows/omniverse_agent/runs',
      {
        message: 'count the prims',
        runtime_config: { model: { model_name: 'fake', base_url: model.url, api_key: 'sk-test-key-000000' } },
      },
    );
    expect(started.status).toBe(201);
    const id = started.body.id;
    const page = await open(`#/tasks/${id}`);

    // The graph is LangGraph's: entry, agent, tools, exit; mid-run the model has answered and the tool runs.
    await expect.poll(() => graphNode(page, 'agent').count()).toBe(1);
    expect(await page.locator('[data-testid=run-graph] [data-node]').count()).toBe(4);
    await expect.poll(() => state(page, 'tools')).toBe('running');
    expect(await state(page, '__start__')).toBe('succeeded');
    expect(await state(page, 'agent')).toBe('succeeded');
    expect(await state(page, '__end__')).toBe('waiting');
    expect(await page.locator('[data-testid=run-graph] path.graph-edge').count()).toBe(4);

    // The call links to its child task while it still runs; the code reads as Python, not a JSON string.
    const call = page.getByTestId('tool-call').first();
    await expect.poll(() => call.getByTestId('tool-child').count()).toBe(1);
    await expect.poll(() => ext.jobs.length).toBe(1);
    const childId = ext.jobs[0]?.taskId ?? '';
    expect(await call.getByTestId('tool-child').textContent()).toContain(childId);
    await call.locator('summary').click({ position: { x: 8, y: 8 } }); // not on the child link
    const code = call.getByTestId('tool-code');
    expect(await code.textContent()).toBe(KIT_CODE);
    expect(await code.locator('.tok-keyword, .tok-kw, [class^=tok-]').count()).toBeGreaterThan(2);
    expect(await call.textContent()).not.toContain('\\n');

    // The list nests the child under the workflow; the parent folds it away and back.
    const parentRow = page.locator(`[data-testid=task-row][data-task-id="${id}"]`);
    const childRow = page.locator(`[data-testid=task-row][data-task-id="${childId}"]`);
    await expect.poll(() => childRow.getAttribute('data-depth')).toBe('1');
    expect(await childRow.getAttribute('data-parent-id')).toBe(id);
    const order = await page.locator('[data-testid=task-row]:not([hidden])').evaluateAll((els) =>
      els
        .map((el) => ({ id: el.getAttribute('data-task-id'), y: el.getBoundingClientRect().top }))
        .sort((a, b) => a.y - b.y)
        .map((r) => r.id),
    );
    expect(order.indexOf(childId)).toBe(order.indexOf(id) + 1);
    await screenshot(page, 'graph-agent-running.png');
    await parentRow.getByTestId('task-toggle').click();
    await expect.poll(() => childRow.isVisible()).toBe(false);
    expect(await parentRow.getByTestId('task-toggle').getAttribute('aria-expanded')).toBe('false');
    await parentRow.getByTestId('task-toggle').click();
    await expect.poll(() => childRow.isVisible()).toBe(true);

    // The workflow's header shows what applies to a workflow: no target, extension or attempts.
    expect(await fact(page, 'target').isHidden()).toBe(true);
    expect(await fact(page, 'extension').isHidden()).toBe(true);
    expect(await fact(page, 'attempts').isHidden()).toBe(true);
    expect(await page.getByTestId('task-workflow').textContent()).toBe('omniverse_agent');

    // The run ends: the agent ran twice (two turns), the tools once, the exit is reached.
    release();
    await expect.poll(() => page.getByTestId('task-status').getAttribute('data-status')).toBe('succeeded');
    await expect.poll(() => state(page, '__end__')).toBe('succeeded');
    expect(await state(page, 'agent')).toBe('succeeded');
    expect(await runs(page, 'agent')).toBe(2);
    expect(await state(page, 'tools')).toBe('succeeded');
    expect(await graphNode(page, 'agent').textContent()).toContain('×2');

    // Clicking a node shows its inputs, outputs and events.
    await graphNode(page, 'tools').click();
    const detail = page.getByTestId('node-detail');
    await expect.poll(() => detail.getAttribute('data-node')).toBe('tools');
    expect(await detail.getByTestId('node-inputs').textContent()).toContain('import omni.usd');
    expect(await detail.getByTestId('node-outputs').textContent()).toContain(childId);
    expect(await detail.getByTestId('node-events').textContent()).toContain('kit_execute returned');
    await graphNode(page, 'agent').click();
    await expect.poll(() => detail.getAttribute('data-node')).toBe('agent');
    expect(await detail.getByTestId('node-events').textContent()).toContain('The stage has 3 prims.');
    await screenshot(page, 'graph-agent-done.png');

    // The child task opens from the call; a code task's header has its target, extension and attempts.
    await call.getByTestId('tool-child').click();
    await expect.poll(() => page.getByTestId('task-id').textContent()).toBe(childId);
    expect(await page.getByTestId('run-graph').count()).toBe(0);
    expect(await fact(page, 'extension').isVisible()).toBe(true);
    expect(await fact(page, 'attempts').isVisible()).toBe(true);
    expect(await fact(page, 'workflow').isHidden()).toBe(true);
    expect(await page.getByTestId('task-extension').textContent()).toBe(ext.extensionId);
    expect(await page.getByTestId('task-parent').textContent()).toBe(id);
    await screenshot(page, 'graph-child-task.png');
    expect(session?.errors).toEqual([]);
  }, 90_000);

  it('a FlowGram run colours its schema graph live, counts loop iterations, and ends with every node settled', async () => {
    hub = await kit.hub({ store: 'memory' });
    const sdk = new SwitchboardClient({ url: hub.url, token: hub.tokens.operator });
    // The page is open before the run starts, and the run is long enough (20 paced iterations) to be seen mid-way.
    const page = await open('');
    const task = await sdk.runFlow(loopSchema(PACED), loopInputs(20));
    await page.locator(`[data-testid=task-row][data-task-id="${task.id}"] a`).click();
    await expect.poll(() => runs(page, 'code_0')).toBeGreaterThanOrEqual(2);
    expect(await state(page, 'start_0')).toBe('succeeded');
    expect(await state(page, 'loop_0')).toBe('running');
    expect(await state(page, 'end_0')).toBe('waiting');
    expect(await graphNode(page, 'code_0').getAttribute('class')).toContain('nested');
    expect(await page.locator('[data-testid=run-graph] [data-node]').count()).toBe(6);
    // The loop's body is drawn inside a box the loop heads; the loop counts its iterations as they go.
    const box = await page.locator('[data-loop-box="loop_0"]').boundingBox();
    if (!box) throw new Error('no loop box');
    const rect = async (id: string) => {
      const r = await graphNode(page, id).locator('rect').boundingBox();
      if (!r) throw new Error(`node ${id} not drawn`);
      return r;
    };
    for (const id of ['loop_0', 'block_start_0', 'code_0', 'block_end_0']) {
      const r = await rect(id);
      expect(r.x >= box.x && r.x + r.width <= box.x + box.width + 0.5, id).toBe(true);
      expect(r.y >= box.y && r.y + r.height <= box.y + box.height + 0.5, id).toBe(true);
    }
    // FlowGram reads left to right: the start before the loop's box, the end after it.
    expect((await rect('end_0')).x).toBeGreaterThanOrEqual(box.x + box.width);
    expect((await rect('start_0')).x + (await rect('start_0')).width).toBeLessThanOrEqual(box.x);
    await expect
      .poll(async () => Number(await graphNode(page, 'loop_0').getAttribute('data-iterations')))
      .toBeGreaterThanOrEqual(2);
    // The header of a FlowGram task: no target, extension, attempts or workflow.
    for (const key of ['target', 'extension', 'attempts', 'workflow'])
      expect(await fact(page, key).isHidden()).toBe(true);
    await screenshot(page, 'graph-flowgram-running.png');

    await expect
      .poll(() => page.getByTestId('task-status').getAttribute('data-status'), { timeout: 30_000 })
      .toBe('succeeded');
    await expect.poll(() => state(page, 'end_0')).toBe('succeeded');
    for (const id of ['start_0', 'loop_0', 'block_start_0', 'code_0', 'block_end_0'])
      expect(await state(page, id)).toBe('succeeded');
    expect(await runs(page, 'code_0')).toBe(20);
    expect(await graphNode(page, 'code_0').textContent()).toContain('×20');
    expect(await graphNode(page, 'loop_0').getAttribute('data-iterations')).toBe('20');
    expect(await graphNode(page, 'loop_0').textContent()).toContain('↻20');
    expect(await page.getByTestId('graph-summary').textContent()).toMatch(/^6\/6 nodes settled/);

    await graphNode(page, 'code_0').click();
    const detail = page.getByTestId('node-detail');
    await expect.poll(() => detail.getAttribute('data-node')).toBe('code_0');
    expect(await detail.getByTestId('node-inputs').textContent()).toContain('"item": 19');
    expect(await detail.getByTestId('node-outputs').textContent()).toContain('"doubled": 38');
    expect(await detail.getByTestId('node-events').textContent()).toContain('iteration 20');
    await screenshot(page, 'graph-flowgram-done.png');
    expect(session?.errors).toEqual([]);
  }, 90_000);

  it('a queued task says why it waits, in the list and the header, and stops saying it once it runs', async () => {
    hub = await kit.hub({ store: 'memory' });
    const submitted = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
      code: 'print("needs a gpu")',
      target: { label: 'gpu' },
    });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id;
    const page = await open(`#/tasks/${id}`);
    // The reason it got at submit comes with its events: the header says it.
    await expect
      .poll(() => page.getByTestId('task-waiting').first().textContent())
      .toContain('no extension is connected');
    const header = page.locator('.task-header [data-testid=task-waiting]');
    expect(await header.textContent()).toBe('no extension is connected (the task needs the label gpu)');

    // A page opened now, long after the note went out, has it from the task's summary: no live event needed.
    const late = await kit.open(hub, { hash: '' });
    const lateRow = late.page.locator(
      `[data-testid=task-row][data-task-id="${id}"] [data-testid=task-waiting]`,
    );
    await expect
      .poll(() => lateRow.textContent())
      .toBe('waiting: no extension is connected (the task needs the label gpu)');
    await late.close();

    // The reason changes live: an extension without the label comes online.
    await kit.extension(hub, { name: 'plain', labels: [] });
    const row = page.locator(`[data-testid=task-row][data-task-id="${id}"] [data-testid=task-waiting]`);
    await expect.poll(() => row.textContent()).toBe('waiting: no extension has the label gpu');
    await expect.poll(() => header.textContent()).toBe('no extension has the label gpu');
    await screenshot(page, 'graph-waiting.png');

    // One with the label takes it: the reason goes away.
    await kit.extension(hub, { name: 'gpu', labels: ['gpu'] });
    await expect.poll(() => page.getByTestId('task-status').getAttribute('data-status')).toBe('succeeded');
    expect(await row.isVisible()).toBe(false);
    expect(await fact(page, 'waiting').isHidden()).toBe(true);
    expect(session?.errors).toEqual([]);
  }, 90_000);
});
