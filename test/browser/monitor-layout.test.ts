import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  type MonitorSession,
  monitorSuite,
  openMonitor,
  runningWorkflow,
  viewShot,
} from '../helpers/browser.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub | undefined;
let session: MonitorSession | undefined;
const browser = monitorSuite(() => {
  const open = [session, hub];
  session = undefined;
  hub = undefined;
  return open;
});

/** 5,000 characters without a space: nothing for the browser to break at but the CSS. */
const LONG = `${'x'.repeat(2_500)}/${'y'.repeat(2_499)}`;

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

async function box(page: Page, testId: string): Promise<Box> {
  const b = await page.getByTestId(testId).first().boundingBox();
  if (!b) throw new Error(`${testId} is not shown`);
  return { left: b.x, right: b.x + b.width, top: b.y, bottom: b.y + b.height };
}

async function expectFits(page: Page, width: number, height: number): Promise<void> {
  for (const id of ['task-status', 'cancel-task', 'sign-out']) {
    const b = await box(page, id);
    expect(b.left, `${id} left`).toBeGreaterThanOrEqual(0);
    expect(b.top, `${id} top`).toBeGreaterThanOrEqual(0);
    expect(b.right, `${id} right edge within ${width}`).toBeLessThanOrEqual(width);
    expect(b.bottom, `${id} bottom`).toBeLessThanOrEqual(height);
  }
  // Nothing scrolls the page sideways: the long line stays inside its own box.
  const sizes = await page.evaluate(() => ({
    doc: document.documentElement.scrollWidth,
    body: document.body.scrollWidth,
    view: document.querySelector('.task-view')?.getBoundingClientRect().right ?? 0,
  }));
  expect(sizes.doc).toBeLessThanOrEqual(width);
  expect(sizes.body).toBeLessThanOrEqual(width);
  expect(sizes.view).toBeLessThanOrEqual(width);
}

describe('the monitor layout with a 5,000-character line', () => {
  for (const [width, height] of [
    [1280, 800],
    [1920, 1080],
  ] as const) {
    it(`keeps the header and Cancel inside a ${width}x${height} window; the line wraps or scrolls in its box`, async () => {
      hub = await startTestHub();
      const tasks = hub.hub.ctx.tasks;
      const task = runningWorkflow(tasks, `Summarise this:\n${LONG}\nthanks`);
      tasks.append(task.id, 'token', { text: `Here it is: ${LONG}` });
      tasks.append(task.id, 'output', { stream: 'stdout', text: `${LONG}\n` });
      tasks.append(task.id, 'log', { level: 'warn', message: `a long log line: ${LONG}` });
      tasks.append(task.id, 'progress', { message: `step ${LONG}`, fraction: 0.5 });
      tasks.append(task.id, 'tool_start', { callId: 'c1', name: `tool_${LONG}`, args: { text: LONG } });
      tasks.append(task.id, 'tool_result', { callId: 'c1', name: 'tool', result: LONG, isError: false });
      session = await openMonitor(browser(), hub.url, hub.tokens.operator, {
        hash: `#/tasks/${task.id}`,
        viewport: { width, height },
      });
      const { page } = session;
      await expect.poll(() => page.getByTestId('task-status').getAttribute('data-status')).toBe('running');
      await page.getByTestId('cancel-task').waitFor();
      await expect.poll(() => page.locator('.task-view').textContent()).toContain('y'.repeat(2_499));
      // Open the input (the message with the long line) too: it must not widen the header.
      for (const summary of await page.locator('.task-view details:not([open]) > summary').all())
        await summary.click();
      await expect.poll(() => page.locator('.task-header').textContent()).toContain('thanks');
      await expectFits(page, width, height);
      // The long text lives in boxes that wrap or scroll, each no wider than the window (what a box scrolls
      // inside it may be wider: that is the scrolling).
      const tooWide = await page.evaluate(
        (limit) =>
          Array.from(document.querySelectorAll<HTMLElement>('.task-view *'))
            .filter((el) => {
              // Clipped by a box that scrolls (or hides) inside the view: that box is checked itself.
              for (let p = el.parentElement; p && !p.classList.contains('task-view'); p = p.parentElement) {
                if (getComputedStyle(p).overflowX !== 'visible') return false;
              }
              return el.getBoundingClientRect().right > limit;
            })
            .map((el) => `${el.tagName}.${el.className}`)
            .slice(0, 5),
        width,
      );
      expect(tooWide).toEqual([]);
      await viewShot(page, `task-view-${width}x${height}`);
      // Cancel is usable where it is.
      await page.getByTestId('cancel-task').click();
      await expect.poll(() => page.getByTestId('task-status').getAttribute('data-status')).toBe('cancelled');
      expect(session.errors).toEqual([]);
    });
  }
});
