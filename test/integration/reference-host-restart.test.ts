import { afterEach, describe, expect, it } from 'vitest';
import { ReferenceHost } from '../../extension-bridge/host/index.js';
import type { Task } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub | undefined;
let host: ReferenceHost | undefined;
afterEach(async () => {
  await host?.stop();
  await hub?.close();
});

const getTask = async (h: TestHub, id: string) =>
  (await http<Task>(h.url, h.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;

describe('the reference host across a hub restart', () => {
  it('stops the attempt the new hub re-queued, then runs the new attempt to the end', async () => {
    const first = await startTestHub();
    hub = first;
    host = new ReferenceHost({ url: first.url, token: first.tokens.extension, name: 'ref-restart' });
    await host.start();
    const code = 'import time\nprint("start", flush=True)\ntime.sleep(1.5)\n"survived"';
    const task = (
      await http<Task>(first.url, first.tokens.operator, 'POST', '/api/v1/tasks', { code, retries: 1 })
    ).body;
    await until(async () => (await getTask(first, task.id)).status === 'running');
    const port = Number(new URL(first.url).port);
    await first.stop();
    const second = await startTestHub({ dataDir: first.dataDir, port });
    hub = second;
    // The old attempt's "cancelled" must not end attempt 2; attempt 2 waits until attempt 1 has stopped.
    const done = await until(
      async () => {
        const t = await getTask(second, task.id);
        return ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(t.status) && t;
      },
      20_000,
      'the task to end on the new hub',
    );
    expect(done).toMatchObject({ status: 'succeeded', result: 'survived', attempts: 2 });
  }, 40_000);
});
