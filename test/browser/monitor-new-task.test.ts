import { describe, expect, it } from 'vitest';
import {
  consoleText,
  type MonitorSession,
  monitorSuite,
  openMonitor,
  openNewTask,
  viewShot,
  waitConnected,
} from '../helpers/browser.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { scriptedExtension } from '../helpers/scripted-extension.js';

let hub: TestHub | undefined;
let session: MonitorSession | undefined;
let model: FakeOpenAI | undefined;
const browser = monitorSuite(() => {
  const open = [session, hub, model];
  session = undefined;
  hub = undefined;
  model = undefined;
  return open;
});

describe('the "New task" dialog', () => {
  it('has room for the code editor and submits a code task that the view then follows', async () => {
    hub = await startTestHub();
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'kit' }, async (api) => {
      await api.started();
      await api.output('from the dialog\n');
      await api.result({ status: 'succeeded', result: 2 });
    });
    session = await openMonitor(browser(), hub.url, hub.tokens.operator);
    const { page } = session;
    // The sidebar no longer holds the forms.
    expect(await page.locator('.sidebar [data-testid=submit-code]').count()).toBe(0);
    await openNewTask(page, 'code');
    const editor = await page.getByTestId('submit-code').boundingBox();
    expect(editor?.width).toBeGreaterThan(700);
    expect(editor?.height).toBeGreaterThan(200);
    await viewShot(page, 'new-task-code');
    await page.getByTestId('submit-code').fill('print(1 + 1)');
    await page.getByTestId('submit-target').selectOption(`id:${ext.extensionId}`);
    await page.getByTestId('submit-run').click();
    await expect.poll(() => page.getByTestId('task-status').getAttribute('data-status')).toBe('succeeded');
    expect(await page.getByTestId('new-task-dialog').isVisible()).toBe(false);
    expect(await consoleText(page)).toBe('from the dialog\n');
    const taskId = await page.getByTestId('task-view').getAttribute('data-task-id');
    expect((await hub.hub.ctx.tasks.get(taskId ?? ''))?.input).toEqual({ code: 'print(1 + 1)' });
    expect(session.errors).toEqual([]);
    ext.close();
  });

  it('starts a workflow with the tools and model settings `switchboard run` passes', async () => {
    model = await startFakeOpenAI();
    model.script(
      { toolCalls: [{ name: 'calculator', arguments: { expression: '17 * 23' } }] },
      { text: 'It is 391.' },
    );
    hub = await startTestHub();
    session = await openMonitor(browser(), hub.url, hub.tokens.operator);
    const { page } = session;
    await expect.poll(() => page.getByTestId('workflow-form').getAttribute('data-state')).toBe('ready');
    await openNewTask(page, 'workflow');
    await page.getByTestId('workflow-select').selectOption('agent_chat');
    await page.getByTestId('workflow-message').fill('What is 17 * 23?');
    await page.getByTestId('workflow-tool-calculator').check();
    await page.getByTestId('workflow-tool-get_time').check();
    await page.getByTestId('workflow-model').fill('fake-model');
    await page.getByTestId('workflow-base-url').fill(model.url);
    await page.getByTestId('workflow-api-key').fill('sk-from-the-monitor-0000');
    await page.getByTestId('workflow-temperature').fill('0.3');
    await page.getByTestId('workflow-max-tokens').fill('400');
    await page.getByTestId('workflow-max-iterations').fill('4');
    await viewShot(page, 'new-task-workflow');
    await page.getByTestId('workflow-start').click();
    await expect.poll(() => page.getByTestId('task-status').getAttribute('data-status')).toBe('succeeded');
    expect(await page.getByTestId('new-task-dialog').isVisible()).toBe(false);
    // The model got the settings and the tools...
    const first = model.requests[0]?.body;
    expect(first?.model).toBe('fake-model');
    expect(first?.temperature).toBe(0.3);
    expect(first?.max_tokens).toBe(400);
    expect(first?.tools?.map((t) => t.function.name).sort()).toEqual(['calculator', 'get_time']);
    expect(model.requests[0]?.headers.authorization).toBe('Bearer sk-from-the-monitor-0000');
    // ...the tool ran, and the key was not kept with the task nor left in the form.
    expect(await page.getByTestId('tool-call').first().textContent()).toContain('calculator');
    const taskId = (await page.getByTestId('task-view').getAttribute('data-task-id')) ?? '';
    const stored = JSON.stringify((await hub.hub.ctx.tasks.get(taskId))?.input);
    expect(stored).toContain('fake-model');
    expect(stored).not.toContain('sk-from-the-monitor-0000');
    await openNewTask(page, 'workflow');
    expect(await page.getByTestId('workflow-api-key').inputValue()).toBe('');
    expect(session.errors).toEqual([]);
  });

  it('marks the line a policy refusal names, in words, and clears the mark when the code changes', async () => {
    hub = await startTestHub({ policyMode: 'strict' });
    session = await openMonitor(browser(), hub.url, hub.tokens.operator);
    const { page } = session;
    await openNewTask(page, 'code');
    const editor = page.getByTestId('submit-code');
    await editor.fill('print("one")\nprint("two")\nimport subprocess\nprint("four")');
    await page.getByTestId('submit-run').click();
    const marker = page.getByTestId('policy-marker');
    await marker.waitFor();
    expect(await marker.getAttribute('data-line')).toBe('3');
    expect(await marker.textContent()).toMatch(/^Line 3, column 8: Importing subprocess/);
    expect(await page.getByTestId('submit-error').getAttribute('data-code')).toBe('policy_denied');
    // The band sits on the third line of the editor, and the gutter's "3" is marked.
    const band = await page.getByTestId('policy-band').boundingBox();
    const area = await editor.boundingBox();
    const lineHeight = await editor.evaluate((el) => Number.parseFloat(getComputedStyle(el).lineHeight));
    const padding = await editor.evaluate((el) => Number.parseFloat(getComputedStyle(el).paddingTop));
    expect(band && area).toBeTruthy();
    expect(Math.abs((band?.y ?? 0) - ((area?.y ?? 0) + padding + 2 * lineHeight))).toBeLessThan(2);
    expect(await page.locator('.editor-gutter .bad').textContent()).toBe('3');
    await viewShot(page, 'policy-refusal');
    // Editing the code clears the mark: it described code that is gone.
    await editor.press('End');
    await editor.type('  # changed');
    await expect.poll(() => marker.count()).toBe(0);
    expect(await page.getByTestId('policy-band').count()).toBe(0);
    expect(await page.locator('.editor-gutter .bad').count()).toBe(0);
    expect(session.errors).toEqual([]);
  });
});

describe('monitor errors and sign-out', () => {
  it("names a stopped hub with the SDK's code: hub_unreachable on the badge and on a submit", async () => {
    hub = await startTestHub();
    session = await openMonitor(browser(), hub.url, hub.tokens.operator);
    const { page } = session;
    expect(await page.getByTestId('connection').getAttribute('data-code')).toBe('');
    await hub.stop();
    await expect
      .poll(() => page.getByTestId('connection').getAttribute('data-code'), { timeout: 20_000 })
      .toBe('hub_unreachable');
    expect(await page.getByTestId('connection-code').textContent()).toBe('hub_unreachable');
    await openNewTask(page, 'code');
    await page.getByTestId('submit-code').fill('print(1)');
    await page.getByTestId('submit-run').click();
    const error = page.getByTestId('submit-error');
    await error.waitFor();
    expect(await error.getAttribute('data-code')).toBe('hub_unreachable');
    expect(await error.textContent()).toMatch(/Hub unreachable \(hub_unreachable\)/);
    await viewShot(page, 'hub-unreachable');
    // Connection failures are expected here; anything else is not.
    expect(session.errors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED|socket\.io/.test(e))).toEqual([]);
  });

  it('clears every interval the app started when the user signs out', async () => {
    hub = await startTestHub();
    const context = await browser().newContext({ viewport: { width: 1440, height: 900 } });
    // Count the page's live intervals: the app's must all be cleared by sign-out.
    await context.addInitScript(() => {
      const live = new Set<unknown>();
      const set = window.setInterval.bind(window);
      const clear = window.clearInterval.bind(window);
      window.setInterval = ((fn: TimerHandler, ms?: number, ...args: unknown[]) => {
        const id = set(fn, ms, ...args);
        live.add(id);
        return id;
      }) as typeof window.setInterval;
      window.clearInterval = ((id?: number) => {
        live.delete(id);
        clear(id);
      }) as typeof window.clearInterval;
      (window as unknown as { __intervals: () => number }).__intervals = () => live.size;
    });
    const page = await context.newPage();
    session = { context, page, errors: [], close: () => context.close() };
    await page.goto(`${hub.url}/?token=${encodeURIComponent(hub.tokens.operator)}`);
    await waitConnected(page);
    const running = () =>
      page.evaluate(() => (window as unknown as { __intervals: () => number }).__intervals());
    expect(await running()).toBeGreaterThanOrEqual(4);
    await page.getByTestId('sign-out').click();
    await page.getByTestId('token-input').waitFor();
    expect(await running()).toBe(0);
    // Signing in again starts one app's worth, not two.
    const before = await running();
    await page.getByTestId('token-input').fill(hub.tokens.operator);
    await page.getByTestId('signin-submit').click();
    await waitConnected(page);
    expect(await running()).toBeGreaterThan(before);
    await page.getByTestId('sign-out').click();
    await page.getByTestId('token-input').waitFor();
    expect(await running()).toBe(0);
  });
});
