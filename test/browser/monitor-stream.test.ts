import { describe, expect, it } from 'vitest';
import {
  consoleText,
  type MonitorSession,
  monitorSuite,
  openMonitor,
  openNewTask,
  runningWorkflow,
  screenshot,
} from '../helpers/browser.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { scriptedExtension } from '../helpers/scripted-extension.js';

let hub: TestHub | undefined;
let session: MonitorSession | undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const browser = monitorSuite(() => {
  const open = [session, hub];
  session = undefined;
  hub = undefined;
  return open;
});

describe('task event streams in the monitor', () => {
  it('resumes from the last seq after dropped connections: every line once, in order', async () => {
    hub = await startTestHub();
    const lines = Array.from({ length: 120 }, (_, i) => `line ${String(i).padStart(3, '0')}\n`);
    let produced = 0;
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'kit' }, async (api) => {
      await api.started();
      for (const [i, line] of lines.entries()) {
        await api.output(line, i % 10 === 9 ? 'stderr' : 'stdout');
        produced = i + 1;
        await sleep(20);
      }
      await api.result({ status: 'succeeded', result: lines.length });
    });
    session = await openMonitor(browser(), hub.url, hub.tokens.operator);
    const { page, context } = session;
    await openNewTask(page, 'code');
    await page.getByTestId('submit-code').fill('for i in range(120): print(i)');
    await page.getByTestId('submit-run').click();
    await expect.poll(() => consoleText(page)).toContain('line 010');

    // 1. The network goes away under the page (the transport drops, reconnects are refused for a while).
    await context.setOffline(true);
    await page.evaluate(() =>
      (window as unknown as { switchboard?: { dropConnection(): void } }).switchboard?.dropConnection(),
    );
    await expect
      .poll(() => page.getByTestId('connection').getAttribute('data-state'))
      .toMatch(/reconnecting|offline/);
    const before = produced;
    await expect.poll(() => produced, { timeout: 5_000 }).toBeGreaterThan(before + 15);
    await context.setOffline(false);
    await expect
      .poll(() => page.getByTestId('connection').getAttribute('data-state'), { timeout: 3_000 })
      .toBe('connected');

    // 2. The hub drops the page itself (as it does a slow reader): Socket.IO does not retry that, the page does.
    await expect.poll(() => consoleText(page)).toContain('line 060');
    hub.hub.io.of('/monitor').disconnectSockets(true);
    await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).not.toBe('connected');

    await expect
      .poll(() => page.getByTestId('task-status').getAttribute('data-status'), { timeout: 15_000 })
      .toBe('succeeded');
    expect(await consoleText(page)).toBe(lines.join(''));
    const stderr = await page.locator('[data-stream=stderr]').allTextContents();
    expect(stderr.join('')).toBe(lines.filter((_, i) => i % 10 === 9).join(''));
    const taskId = (await page.getByTestId('task-id').textContent()) ?? '';
    const lastSeq = (await hub.hub.ctx.tasks.get(taskId))?.lastSeq;
    expect(await page.getByTestId('event-count').textContent()).toBe(`${lastSeq} events`);
    // The browser itself reports the refused reconnects while offline; nothing else may show up.
    expect(session.errors.filter((e) => !e.includes('ERR_INTERNET_DISCONNECTED'))).toEqual([]);
    ext.close();
  });

  it('renders a workflow: steps, tool calls, thinking, tokens, logs, child tasks, result', async () => {
    hub = await startTestHub();
    const { tasks, codeTasks } = hub.hub.ctx;
    const wf = runningWorkflow(tasks, 'Add a red cube next to the chair');
    session = await openMonitor(browser(), hub.url, hub.tokens.viewer, { hash: `#/tasks/${wf.id}` });
    const { page } = session;
    await page.getByTestId('task-status').and(page.locator('[data-status=running]')).waitFor();

    tasks.append(wf.id, 'node_start', { node: 'plan', nodeType: 'llm' });
    tasks.append(wf.id, 'tool_thinking', { text: 'The user wants a cube; I should find the chair first.' });
    tasks.append(wf.id, 'tool_start', {
      callId: 'c1',
      name: 'find_prims',
      args: { pattern: '/World/*Chair*' },
    });
    tasks.append(wf.id, 'tool_result', {
      callId: 'c1',
      name: 'find_prims',
      result: ['/World/Chair'],
      isError: false,
    });
    tasks.append(wf.id, 'tool_start', { callId: 'c2', name: 'kit_execute', args: { code: 'create_cube()' } });
    const child = await codeTasks.submit({
      code: 'create_cube("/World/Cube", color=(1, 0, 0))',
      parentId: wf.id,
    });
    tasks.append(wf.id, 'tool_result', {
      callId: 'c2',
      name: 'kit_execute',
      result: { error: 'no extension online' },
      isError: true,
    });
    tasks.append(wf.id, 'node_end', { node: 'plan' });
    tasks.append(wf.id, 'node_start', { node: 'answer', nodeType: 'llm' });
    tasks.append(wf.id, 'progress', { fraction: 0.5, message: 'writing the answer' });
    for (const word of 'I found /World/Chair, but no Kit extension is online to create the cube.'.split(
      ' ',
    )) {
      tasks.append(wf.id, 'token', { text: `${word} `, node: 'answer' });
    }
    tasks.append(wf.id, 'log', { level: 'warn', message: 'kit_execute failed: no extension online' });
    tasks.append(wf.id, 'node_end', { node: 'answer' });
    tasks.append(wf.id, 'done', {
      result: { answer: 'No extension online.' },
      usage: { promptTokens: 812, completionTokens: 64, totalTokens: 876 },
      finishReason: 'stop',
    });
    tasks.transition(wf.id, 'succeeded', 'completed', { result: { answer: 'No extension online.' } });

    await expect.poll(() => page.getByTestId('task-status').getAttribute('data-status')).toBe('succeeded');
    await expect.poll(() => page.locator('.steps [data-state=done]').count()).toBe(2);
    expect(await page.getByTestId('tokens').textContent()).toContain(
      'I found /World/Chair, but no Kit extension',
    );
    expect(await page.getByTestId('thinking').textContent()).toContain('find the chair first');
    const calls = page.getByTestId('tool-call');
    expect(await calls.count()).toBe(2);
    expect(await calls.nth(0).getAttribute('data-state')).toBe('done');
    expect(await calls.nth(1).getAttribute('data-state')).toBe('error');
    expect(await calls.nth(1).getAttribute('open')).not.toBeNull();
    await calls.nth(0).locator('summary').click();
    expect(await calls.nth(0).textContent()).toContain('/World/*Chair*');
    expect(await page.getByTestId('ev-log').textContent()).toContain('kit_execute failed');
    expect(await page.getByTestId('ev-done').textContent()).toContain('876 tokens');
    expect(await page.getByTestId('task-input').textContent()).toContain('Add a red cube');
    // The child code task links both ways.
    await page.getByTestId('task-children').getByRole('link', { name: child.id }).click();
    await expect.poll(() => page.getByTestId('task-id').textContent()).toBe(child.id);
    await page.getByTestId('task-parent').getByRole('link', { name: wf.id }).click();
    await expect.poll(() => page.getByTestId('task-id').textContent()).toBe(wf.id);
    await page.getByTestId('tool-call').nth(0).locator('summary').click();
    await screenshot(page, 'task-view-workflow.png');
    expect(session.errors).toEqual([]);
  });

  it('shows errors with readable tracebacks', async () => {
    hub = await startTestHub();
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'kit' }, async (api) => {
      await api.started();
      await api.output('about to divide\n');
      await api.result({
        status: 'failed',
        error: {
          message: 'division by zero',
          type: 'ZeroDivisionError',
          traceback:
            'Traceback (most recent call last):\n  File "<switchboard>", line 2, in <module>\n    1 / 0\nZeroDivisionError: division by zero\n',
        },
      });
    });
    session = await openMonitor(browser(), hub.url, hub.tokens.operator);
    const { page } = session;
    await openNewTask(page, 'code');
    await page.getByTestId('submit-code').fill('print("about to divide")\n1 / 0');
    await page.getByTestId('submit-run').click();
    await expect.poll(() => page.getByTestId('task-status').getAttribute('data-status')).toBe('failed');
    const error = page.getByTestId('ev-error');
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await error.textContent()).toContain('division by zero');
    expect(await error.locator('.tb-file').textContent()).toContain('File "<switchboard>", line 2');
    expect(await error.locator('.tb-exc').textContent()).toBe('ZeroDivisionError: division by zero\n');
    ext.close();
  });
});
