import { describe, expect, it } from 'vitest';
import type { Task } from '../../server/protocol/index.js';
import {
  type MonitorSession,
  monitorSuite,
  openMonitor,
  runningWorkflow,
  watchFrames,
} from '../helpers/browser.js';
import { until } from '../helpers/clients.js';
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

describe('the monitor under load', () => {
  it('stays responsive with 1000 tasks: virtualised rows, live counts, filters', async () => {
    hub = await startTestHub({ store: 'memory', policyMode: 'off' });
    const { codeTasks, dispatcher } = hub.hub.ctx;
    // Targeted at a label nobody has: they stay queued.
    const submit = (i: number) => codeTasks.submit({ code: `print(${i})`, target: { label: 'nowhere' } });
    const created: Task[] = [];
    for (let i = 0; i < 600; i++) created.push(await submit(i));

    session = await openMonitor(browser(), hub.url, hub.tokens.operator);
    const { page } = session;
    const chipCount = (status: string) =>
      page.getByTestId(`status-chip-${status}`).locator('.chip-count').textContent();
    await expect.poll(() => chipCount('all')).toBe('600');

    // 400 more arrive live through the feed.
    for (let i = 600; i < 1000; i++) created.push(await submit(i));
    await expect.poll(() => chipCount('all')).toBe('1000');
    expect(await chipCount('queued')).toBe('1000');
    const rows = page.getByTestId('task-row');
    expect(await rows.count()).toBeLessThan(60);
    // Newest first; scrolling to the end shows the oldest.
    expect(await rows.first().getAttribute('data-task-id')).toBe(created[999]?.id);
    await page.locator('.tasks-panel .vlist').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.locator(`[data-testid=task-row][data-task-id="${created[0]?.id}"]`).waitFor();
    expect(await rows.count()).toBeLessThan(60);

    // A burst of 500 status changes: the list and counts follow without a frozen frame.
    const stopWatching = await watchFrames(page);
    for (const t of created.slice(0, 500)) dispatcher.cancelLive(t.id);
    await expect.poll(() => chipCount('cancelled')).toBe('500');
    expect(await chipCount('queued')).toBe('500');
    expect(await stopWatching()).toBeLessThan(500);

    // Filters: status (the count chips), free text, kind, extension.
    await page.getByTestId('status-chip-cancelled').click();
    await expect.poll(() => page.getByTestId('tasks-shown').textContent()).toBe('500 of 1000');
    expect(new Set(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-status'))))).toEqual(
      new Set(['cancelled']),
    );
    await page.getByTestId('status-chip-cancelled').click();
    const target = created[123]?.id ?? '';
    const filterMs = await page.getByTestId('filter-text').evaluate(async (input, id) => {
      const started = performance.now();
      (input as HTMLInputElement).value = id;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      return performance.now() - started;
    }, target);
    expect(filterMs).toBeLessThan(300);
    expect(await page.getByTestId('tasks-shown').textContent()).toBe('1 of 1000');
    await expect
      .poll(() =>
        rows.evaluateAll((els) =>
          els.filter((e) => !(e as HTMLElement).hidden).map((e) => e.getAttribute('data-task-id')),
        ),
      )
      .toEqual([target]);
    await page.getByTestId('filter-text').fill('');
    await page.getByTestId('filter-kind').selectOption('workflow');
    await expect.poll(() => page.getByTestId('tasks-shown').textContent()).toBe('0 of 1000');
    expect(await page.getByText('No tasks match.').isVisible()).toBe(true);
    await page.getByTestId('filter-kind').selectOption('');

    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'kit-gpu', labels: ['gpu'] });
    for (let i = 0; i < 3; i++) await codeTasks.submit({ code: `print(${i})`, target: { label: 'gpu' } });
    await until(
      async () =>
        (await hub?.hub.ctx.tasks.list({ extensionId: ext.extensionId, status: 'succeeded' }))?.tasks
          .length === 3,
    );
    await expect
      .poll(() => page.locator(`[data-testid=filter-extension] option[value="${ext.extensionId}"]`).count())
      .toBe(1);
    await page.getByTestId('filter-extension').selectOption(ext.extensionId);
    await expect.poll(() => page.getByTestId('tasks-shown').textContent()).toBe('3 of 1003');
    expect(session.errors).toEqual([]);
    ext.close();
  });

  it('keeps the page responsive through a 50,000-token stream', async () => {
    hub = await startTestHub({ store: 'memory' });
    const { tasks } = hub.hub.ctx;
    const wf = runningWorkflow(tasks, 'Write a long story');
    session = await openMonitor(browser(), hub.url, hub.tokens.viewer, { hash: `#/tasks/${wf.id}` });
    const { page } = session;
    await page.getByTestId('task-status').and(page.locator('[data-status=running]')).waitFor();
    const stopWatching = await watchFrames(page);
    const TOKENS = 50_000;
    let expected = '';
    for (let i = 0; i < TOKENS; i++) {
      const text = i % 13 === 12 ? `t${i}.\n` : `t${i} `;
      expected += text;
      tasks.append(wf.id, 'token', { text });
      // A fast model, not an instant one: let the socket drain between bursts.
      if (i % 1_000 === 999) await sleep(10);
    }
    tasks.transition(wf.id, 'succeeded', 'completed');
    await expect
      .poll(() => page.getByTestId('task-status').getAttribute('data-status'), { timeout: 20_000 })
      .toBe('succeeded');
    await expect
      .poll(() => page.getByTestId('event-count').textContent(), { timeout: 20_000 })
      .toBe(`${TOKENS + 3} events`);
    const longestFrameGap = await stopWatching();
    expect(await page.getByTestId('tokens').textContent()).toBe(expected);
    // Text goes in line-aligned chunks of a few KB: the DOM grows with the text, not with the token count.
    const elements = await page.evaluate(
      () => document.querySelectorAll('[data-testid=event-stream] *').length,
    );
    expect(elements).toBeLessThan(expected.length / 2_000);
    expect(longestFrameGap).toBeLessThan(1_000);
    expect(session.errors).toEqual([]);
  });
});
