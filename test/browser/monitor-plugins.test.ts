import { describe, expect, it } from 'vitest';
import { type MonitorSession, monitorSuite, openMonitor, screenshot } from '../helpers/browser.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { pluginClient } from '../helpers/plugin-client.js';

let hub: TestHub | undefined;
let session: MonitorSession | undefined;
const browser = monitorSuite(() => {
  const open = [session, hub];
  session = undefined;
  hub = undefined;
  return open;
});

describe('plugin tasks in the monitor', () => {
  it('shows the progress bar moving and the output image inline', async () => {
    hub = await startTestHub();
    const client = pluginClient(hub.url, hub.tokens.operator);
    const id = await client.create({
      tool_name: 'text2image',
      parameters: { prompt: 'monitor', width: 120, height: 80, steps: 20, step_delay_ms: 150 },
    });
    session = await openMonitor(browser(), hub.url, hub.tokens.viewer, { hash: `#/tasks/${id}` });
    const { page } = session;
    const bar = page.getByTestId('progress-bar');
    // Mid-run the bar is partly filled...
    await expect
      .poll(async () => Number(await bar.getAttribute('value')), { timeout: 20_000 })
      .toBeGreaterThan(0);
    // ...and full at the end, with the image drawn from the output file.
    await expect
      .poll(() => page.getByTestId('task-status').getAttribute('data-status'), { timeout: 20_000 })
      .toBe('succeeded');
    expect(Number(await bar.getAttribute('value'))).toBe(1);
    const img = page.getByTestId('output-image');
    await expect
      .poll(
        () =>
          img.evaluate((el) => [
            (el as HTMLImageElement).naturalWidth,
            (el as HTMLImageElement).naturalHeight,
          ]),
        {
          timeout: 10_000,
        },
      )
      .toEqual([120, 80]);
    await screenshot(page, 'monitor-plugin-output.png');
    expect(session.errors).toEqual([]);
  });
});
