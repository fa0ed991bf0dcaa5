import { describe, expect, it } from 'vitest';
import type { Task } from '../../server/protocol/index.js';
import { type MonitorSession, monitorSuite, openMonitor, screenshot } from '../helpers/browser.js';
import { http } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { scriptedExtension } from '../helpers/scripted-extension.js';

let hub: TestHub | undefined;
let session: MonitorSession | undefined;
const browser = monitorSuite(() => {
  const open = [session, hub];
  session = undefined;
  hub = undefined;
  return open;
});

describe('the overview page', () => {
  it('charts queue, throughput, failures, durations and extension load live while tasks run', async () => {
    hub = await startTestHub({ statsSampleMs: 250 });
    const h = hub;
    // One slot; each job waits until the test lets it finish; `fail*` fails.
    const gates = new Map<string, () => void>();
    const gate = (code: string) => new Promise<void>((r) => gates.set(code, r));
    const waiting = new Map<string, Promise<void>>();
    const ext = await scriptedExtension(
      h.url,
      h.tokens.extension,
      { name: 'kit-render', concurrency: 1 },
      async (api) => {
        await api.started();
        const code = api.job.code;
        if (!waiting.has(code)) waiting.set(code, gate(code));
        await waiting.get(code);
        if (code.startsWith('fail'))
          await api.result({
            status: 'failed',
            error: { message: 'RuntimeError: no stage', type: 'RuntimeError' },
          });
        else await api.result({ status: 'succeeded', result: code });
      },
    );
    const release = (code: string) => {
      if (!waiting.has(code)) waiting.set(code, gate(code));
      gates.get(code)?.();
    };

    session = await openMonitor(browser(), h.url, h.tokens.viewer, { hash: '#/overview' });
    const { page } = session;
    const overview = page.getByTestId('overview');
    await expect.poll(() => overview.isVisible()).toBe(true);
    expect(await page.locator('main.layout').isVisible()).toBe(false);
    expect(await page.getByTestId('nav-overview').getAttribute('aria-current')).toBe('page');
    const attr = (chart: string, name: string) =>
      page.getByTestId(`chart-${chart}`).getAttribute(`data-${name}`);

    // Samples arrive and the charts draw them (uPlot canvases).
    await expect
      .poll(async () => Number(await attr('queue', 'points')), { timeout: 20_000 })
      .toBeGreaterThan(1);
    expect(await page.locator('[data-testid^=chart-] canvas').count()).toBeGreaterThanOrEqual(4);
    // The queue chart names its two lines in a legend, each with its line's colour.
    const legend = page.getByTestId('chart-queue').locator('.u-legend .u-series');
    expect(await legend.allTextContents()).toEqual(['queued', 'running']);
    const marker = (i: number) =>
      legend
        .nth(i)
        .locator('.u-marker')
        .evaluate((el) => getComputedStyle(el).borderColor);
    expect(await marker(0)).toBe('rgb(141, 153, 171)');
    expect(await marker(1)).toBe('rgb(56, 189, 248)');

    const submit = async (code: string) => {
      const res = await http<Task>(h.url, h.tokens.operator, 'POST', '/api/v1/tasks', { code });
      expect(res.status).toBe(201);
    };
    for (const code of ['a', 'fail-b', 'c', 'd']) await submit(code);
    // One runs, three wait: the queue chart's latest value (queued, running: a queued task is not counted as
    // running) and the extension's state say so.
    await expect.poll(() => attr('queue', 'last'), { timeout: 20_000 }).toBe('3,1');
    expect(await page.getByTestId('chart-queue').textContent()).toContain('queued: 3   running: 1');
    const state = page.locator(`[data-extension="${ext.extensionId}"]`);
    await expect.poll(() => state.getAttribute('data-state'), { timeout: 20_000 }).toBe('busy');
    await expect.poll(() => attr('load', 'last'), { timeout: 20_000 }).toBe('1');
    const pointsWhileBusy = Number(await attr('queue', 'points'));

    for (const code of ['a', 'fail-b', 'c', 'd']) release(code);
    // The queue drains and the other charts pick up the finishes.
    await expect.poll(() => attr('queue', 'last'), { timeout: 20_000 }).toBe('0,0');
    await expect
      .poll(async () => Number((await attr('throughput', 'max'))?.split(',')[1]), { timeout: 20_000 })
      .toBeGreaterThan(0);
    await expect
      .poll(async () => Number(await attr('failures', 'max')), { timeout: 20_000 })
      .toBeGreaterThan(0);
    await expect.poll(async () => (await attr('durations', 'max')) ?? '', { timeout: 20_000 }).toMatch(/^\d/);
    await expect.poll(() => state.getAttribute('data-state'), { timeout: 20_000 }).toBe('idle');
    expect(Number(await attr('queue', 'points'))).toBeGreaterThan(pointsWhileBusy);
    // The latest values are written out too (an interval that finished nothing: no failure rate).
    expect(await page.getByTestId('chart-queue').textContent()).toContain('queued: 0   running: 0');
    // (The sample that saw the last finish may still be the latest: wait for the next one.)
    await expect
      .poll(() => page.getByTestId('chart-failures').textContent(), { timeout: 20_000 })
      .toContain('failed: –');
    await screenshot(page, 'monitor-overview.png');

    // The Tasks link brings the task layout back and the overview stops.
    await page.getByTestId('nav-tasks').click();
    await expect.poll(() => page.locator('main.layout').isVisible()).toBe(true);
    expect(await overview.isVisible()).toBe(false);
    expect(session.errors).toEqual([]);
    ext.close();
  });
});
