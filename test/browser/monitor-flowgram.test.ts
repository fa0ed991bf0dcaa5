import { describe, expect, it } from 'vitest';
import { SwitchboardClient } from '../../client/sdk/index.js';
import { type MonitorSession, monitorSuite, openMonitor, screenshot } from '../helpers/browser.js';
import { loopInputs, loopSchema } from '../helpers/flowgram-loop.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub | undefined;
let client: SwitchboardClient | undefined;
let session: MonitorSession | undefined;
const browser = monitorSuite(() => {
  const open = [session, client, hub];
  session = undefined;
  client = undefined;
  hub = undefined;
  return open;
});

// Each iteration waits inside the sandbox, so the page sees the loop between its iterations.
const PACED = `async function main({ params }) {
  await new Promise((resolve) => setTimeout(resolve, 250));
  return { doubled: params.item * 2 };
}`;

async function setUp(config: Parameters<typeof startTestHub>[0] = {}): Promise<SwitchboardClient> {
  hub = await startTestHub({ store: 'memory', ...config });
  client = new SwitchboardClient({ url: hub.url, token: hub.tokens.operator });
  session = await openMonitor(browser(), hub.url, hub.tokens.operator);
  return client;
}

const node = (id: string) => session?.page.locator(`[data-testid=flow-nodes] [data-node="${id}"]`);

describe('flowgram tasks in the monitor', () => {
  it('lists the task and shows every schema node through to succeeded, with loop runs', async () => {
    const sdk = await setUp();
    const task = await sdk.runFlow(loopSchema(PACED), loopInputs(4));
    const page = session?.page;
    if (!page) throw new Error('no page');
    const row = page.locator(`[data-testid=task-row][data-task-id="${task.id}"]`);
    await expect.poll(() => row.textContent()).toContain('flowgram');
    await row.locator('a').click();

    // Every node of the schema is listed from the start, blocks nested under their loop.
    const ids = await page
      .locator('[data-testid=flow-nodes] [data-node]')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-node')));
    expect(ids).toEqual(['start_0', 'loop_0', 'block_start_0', 'code_0', 'block_end_0', 'end_0']);
    expect(await node('code_0')?.getAttribute('class')).toContain('nested');

    await expect.poll(() => page.getByTestId('task-status').getAttribute('data-status')).toBe('succeeded');
    await expect.poll(() => node('end_0')?.getAttribute('data-state')).toBe('succeeded');
    expect(await node('code_0')?.getAttribute('data-state')).toBe('succeeded');
    expect(await node('start_0')?.getAttribute('data-state')).toBe('succeeded');
    expect(await node('code_0')?.getByTestId('node-runs').textContent()).toBe('×4');
    expect(await node('code_0')?.getByTestId('node-duration').textContent()).toMatch(/\d/);
    expect(await page.getByTestId('flow-summary').textContent()).toMatch(/^6\/6 nodes finished/);
    await screenshot(page, 'flowgram-task.png');
    expect(session?.errors).toEqual([]);
  });

  it('shows a loop mid-run, then cancels the task from its view: the running node stops, later ones wait', async () => {
    const sdk = await setUp();
    // 200 paced iterations: far longer than the test needs to look at it mid-run.
    const task = await sdk.runFlow(loopSchema(PACED), loopInputs(200));
    const page = session?.page;
    if (!page) throw new Error('no page');
    await page.goto(`${hub?.url}/?token=${hub?.tokens.operator}#/tasks/${task.id}`);
    await expect
      .poll(async () => Number(await node('code_0')?.getAttribute('data-runs')))
      .toBeGreaterThanOrEqual(2);
    expect(await node('start_0')?.getAttribute('data-state')).toBe('succeeded');
    expect(await node('loop_0')?.getAttribute('data-state')).toBe('running');
    expect(await node('end_0')?.getAttribute('data-state')).toBe('waiting');
    expect(await node('code_0')?.getByTestId('node-runs').textContent()).toMatch(/^×\d+$/);
    await page.getByTestId('cancel-task').click();
    await expect.poll(() => page.getByTestId('task-status').getAttribute('data-status')).toBe('cancelled');
    await expect.poll(() => node('loop_0')?.getAttribute('data-state')).toMatch(/^(cancelled|stopped)$/);
    expect(await node('end_0')?.getAttribute('data-state')).toBe('waiting');
    expect(session?.errors).toEqual([]);
  });

  it('shows a failed node with its error', async () => {
    const sdk = await setUp();
    const task = await sdk.runFlow(
      loopSchema('async function main() { throw new RangeError("out of range") }'),
      loopInputs(1),
    );
    const page = session?.page;
    if (!page) throw new Error('no page');
    await page.goto(`${hub?.url}/?token=${hub?.tokens.operator}#/tasks/${task.id}`);
    await expect.poll(() => page.getByTestId('task-status').getAttribute('data-status')).toBe('failed');
    await expect.poll(() => node('code_0')?.getAttribute('data-state')).toBe('failed');
    expect(await node('code_0')?.getByTestId('node-error').textContent()).toContain('out of range');
  });
});
