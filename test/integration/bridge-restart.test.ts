import { afterEach, describe, expect, it } from 'vitest';
import type { Task } from '../../server/protocol/index.js';
import { isTerminal } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { startPythonBridge, stopAllBridges, waitForLog } from '../helpers/python-bridge.js';

let hub: TestHub;
afterEach(async () => {
  await stopAllBridges();
  await hub?.close();
});

const getTask = async (id: string) =>
  (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;

describe('the Python bridge across a hub restart', () => {
  it('delivers the result of a job that finished while the hub was down, and the new hub accepts it', {
    timeout: 90_000,
  }, async () => {
    hub = await startTestHub();
    const { bridge, info } = await startPythonBridge(hub, { name: 'py-away' });
    const task = (
      await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
        code: 'import time\nprint("start")\ntime.sleep(2)\n"finished while away"',
        retries: 1,
        timeoutMs: 120_000,
      })
    ).body;
    await until(async () => (await getTask(task.id)).status === 'running', 15_000, 'job running');
    const port = Number(new URL(hub.url).port);
    await hub.stop();
    // The job ends while no hub listens: its result waits in the bridge's outbox.
    await waitForLog(bridge, new RegExp(`job ${task.id} succeeded`), 20_000);
    hub = await startTestHub({ dataDir: hub.dataDir, port });
    // The new hub re-queued the task (hub_restarted) and sends it to the bridge as attempt 2; the bridge
    // answers it with the finished run's result instead of holding it back or running the code again.
    const done = await until(
      async () => {
        const t = await getTask(task.id);
        return isTerminal(t.status) && t;
      },
      30_000,
      'task to end',
    );
    expect(done).toMatchObject({
      status: 'succeeded',
      result: 'finished while away',
      extensionId: info.id,
      attempts: 2,
    });
    expect(bridge.output().match(new RegExp(`job ${task.id} started`, 'g'))).toHaveLength(1);
  });
});
