import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExtensionInfo, Task, TaskEvent } from '../../server/protocol/index.js';
import { isTerminal } from '../../server/protocol/index.js';
import { http, monitorClient, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import {
  type PythonBridge,
  spawnPythonBridge,
  startPythonBridge,
  stopAllBridges,
  waitForExtension,
} from '../helpers/python-bridge.js';

/** The Python bridge (extension-bridge/exts/switchboard.bridge) as a real process against a real hub. */

async function submit(hub: TestHub, code: string, extra: Record<string, unknown> = {}): Promise<Task> {
  const res = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function getTask(hub: TestHub, id: string): Promise<Task> {
  return (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;
}

async function taskWhere(hub: TestHub, id: string, ok: (t: Task) => boolean, ms = 15_000): Promise<Task> {
  return until(
    async () => {
      const t = await getTask(hub, id);
      return ok(t) && t;
    },
    ms,
    `task ${id}`,
  );
}

const ended = (hub: TestHub, id: string, ms?: number) => taskWhere(hub, id, (t) => isTerminal(t.status), ms);

async function run(hub: TestHub, code: string, extra: Record<string, unknown> = {}): Promise<Task> {
  return ended(hub, (await submit(hub, code, extra)).id);
}

/** A task's events, each with the time it arrived live, until its terminal status. */
async function timedEvents(hub: TestHub, taskId: string): Promise<Array<{ event: TaskEvent; at: number }>> {
  const socket = await monitorClient(hub.url, hub.tokens.viewer);
  const seen: Array<{ event: TaskEvent; at: number }> = [];
  try {
    const done = new Promise<void>((resolve) => {
      socket.on('task:event', (event) => {
        if (event.taskId !== taskId) return;
        seen.push({ event, at: Date.now() });
        if (event.type === 'status' && isTerminal(event.data.status)) resolve();
      });
    });
    await socket.timeout(5_000).emitWithAck('task:subscribe', { taskId });
    await done;
    return seen;
  } finally {
    socket.close();
  }
}

function outputText(events: Array<{ event: TaskEvent }>, stream?: 'stdout' | 'stderr'): string {
  return events
    .map(({ event }) =>
      event.type === 'output' && (!stream || event.data.stream === stream) ? event.data.text : '',
    )
    .join('');
}

describe('headless bridge: running code', () => {
  let hub: TestHub;
  let info: ExtensionInfo;

  beforeAll(async () => {
    hub = await startTestHub();
    ({ info } = await startPythonBridge(hub, {
      name: 'py-runner',
      labels: ['py', 'stage:a'],
      concurrency: 1,
    }));
  });
  afterAll(async () => {
    await stopAllBridges();
    await hub.close();
  });

  it('registers with its labels, concurrency and host', () => {
    expect(info).toMatchObject({
      labels: ['py', 'stage:a'],
      concurrency: 1,
      online: true,
      transport: 'socket.io',
      capabilities: { hostApp: 'python' },
    });
    expect(info.capabilities.pythonVersion).toMatch(/^3\.\d+/);
  });

  it('returns the last expression and streams stdout and stderr', async () => {
    const task = await submit(
      hub,
      'import sys\nprint("out")\nprint("err", file=sys.stderr)\n{"answer": 6 * 7}',
    );
    const events = await timedEvents(hub, task.id);
    expect(outputText(events, 'stdout')).toBe('out\n');
    expect(outputText(events, 'stderr')).toBe('err\n');
    const done = await getTask(hub, task.id);
    expect(done).toMatchObject({ status: 'succeeded', result: { answer: 42 }, extensionId: info.id });
  });

  it('returns a `result` variable, and the repr of what JSON cannot hold', async () => {
    expect((await run(hub, 'result = [1, None, "x"]')).result).toEqual([1, null, 'x']);
    expect((await run(hub, 'object')).result).toBe("<class 'object'>");
  });

  it('fails on a syntax error, pointing at the line', async () => {
    const task = await run(hub, 'x = 1\ny = (\n');
    expect(task.status).toBe('failed');
    expect(task.error?.message).toMatch(/^SyntaxError: /);
    expect(task.error?.traceback).toContain('File "<job>", line 2');
  });

  it('fails on an exception with a traceback of the user frames only', async () => {
    const task = await run(hub, 'def f():\n    return 1 / 0\n\nf()');
    expect(task.status).toBe('failed');
    expect(task.error?.code).toBe('execution_failed');
    expect(task.error?.message).toBe('ZeroDivisionError: division by zero');
    expect(task.error?.traceback).toContain('File "<job>", line 4, in <module>');
    expect(task.error?.traceback).toContain('File "<job>", line 2, in f');
    expect(task.error?.traceback).not.toContain('switchboard');
  });

  it('supports top-level await', async () => {
    const task = await run(
      hub,
      'import asyncio\nawait asyncio.sleep(0.05)\nawait asyncio.sleep(0, "awaited")',
    );
    expect(task).toMatchObject({ status: 'succeeded', result: 'awaited' });
  });

  it('streams output while the job runs, not at its end', async () => {
    const task = await submit(hub, 'import time\nprint("before")\ntime.sleep(1)\nprint("after")\n"done"');
    const events = await timedEvents(hub, task.id);
    expect(outputText(events)).toBe('before\nafter\n');
    const first = events.find(({ event }) => event.type === 'output');
    const last = events.at(-1);
    expect(last?.event).toMatchObject({ type: 'status', data: { status: 'succeeded' } });
    expect((last?.at ?? 0) - (first?.at ?? Number.POSITIVE_INFINITY)).toBeGreaterThanOrEqual(500);
  });

  it('stops `while True: pass` at its timeout and takes the next job', async () => {
    const started = Date.now();
    const task = await run(hub, 'while True:\n    pass', { timeoutMs: 1_000 });
    expect(task.status).toBe('timed_out');
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(await run(hub, '"next"')).toMatchObject({ status: 'succeeded', result: 'next' });
  });

  it('cancels a busy job and a job suspended at an await', async () => {
    for (const code of ['n = 0\nwhile True:\n    n += 1', 'import asyncio\nawait asyncio.sleep(3600)']) {
      const task = await submit(hub, code);
      await taskWhere(hub, task.id, (t) => t.status === 'running');
      const res = await http<Task>(hub.url, hub.tokens.operator, 'POST', `/api/v1/tasks/${task.id}/cancel`);
      expect(res.status).toBe(200);
      expect((await ended(hub, task.id)).status).toBe('cancelled');
      // The slot comes back only when the bridge confirms the stop: the next job runs at once.
      expect(await run(hub, '1 + 1', { timeoutMs: 4_000 })).toMatchObject({ status: 'succeeded', result: 2 });
    }
  });
});

describe('headless bridge: safety policy on the bridge side', () => {
  let hub: TestHub;
  afterEach(async () => {
    await stopAllBridges();
    await hub.close();
  });

  it('refuses denied code the hub let through, naming the rule, line and column', async () => {
    hub = await startTestHub({ policyMode: 'off' });
    await startPythonBridge(hub, { name: 'py-policy' });
    const task = await run(hub, 'x = 1\nimport subprocess\nsubprocess.run(["true"])');
    expect(task.status).toBe('failed');
    expect(task.error?.message).toContain('PolicyError');
    expect(task.error?.message).toContain('[import:subprocess] at line 2, column 8');
    const call = await run(hub, 'import os\nos.system("true")');
    expect(call.error?.message).toContain('[call:os.system] at line 2, column 1');
  });

  it('refuses the escapes that walk around a deny-list, and in allowlist mode modules off the list', async () => {
    hub = await startTestHub({ policyMode: 'off' });
    await startPythonBridge(hub, { name: 'py-strict' });
    const escapes: Array<[code: string, where: string]> = [
      ["open('/etc/passwd').read()", '[file:open] at line 1, column 1'],
      ['import ｓubprocess', '[import:subprocess] at line 1, column 8'],
      ['().__class__.__base__.__subclasses__()', '[reflection:__base__] at line 1, column 1'],
      ["import pickle\npickle.loads(b'')", '[call:pickle.loads] at line 2, column 1'],
      ['import os\nf = lambda: os\nf().system("true")', '[alias:os] at line 2, column 13'],
    ];
    for (const [code, where] of escapes) {
      const task = await run(hub, code);
      expect(task.status, code).toBe('failed');
      expect(task.error?.message, code).toContain(where);
    }
    await stopAllBridges();
    await startPythonBridge(hub, { name: 'py-allowlist', policy: 'allowlist' });
    const os = await run(hub, 'import os\nos.getcwd()');
    expect(os.error?.message).toContain('[allowlist:import] at line 1, column 8');
    const math = await run(hub, 'import math\nmath.floor(2.5)');
    expect(math.status, JSON.stringify(math.error)).toBe('succeeded');
  });
});

describe('headless bridge: routing', () => {
  let hub: TestHub;
  afterEach(async () => {
    await stopAllBridges();
    await hub.close();
  });

  it('gives two bridges with different labels their own jobs', async () => {
    hub = await startTestHub();
    const a = await startPythonBridge(hub, { name: 'py-a', labels: ['alpha'] });
    const b = await startPythonBridge(hub, { name: 'py-b', labels: ['beta'] });
    const tasks = await Promise.all(
      ['alpha', 'beta', 'alpha', 'beta'].map((label) => submit(hub, `"${label}"`, { target: { label } })),
    );
    const done = await Promise.all(tasks.map((t) => ended(hub, t.id)));
    expect(done.map((t) => t.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(done.map((t) => t.extensionId)).toEqual([a.info.id, b.info.id, a.info.id, b.info.id]);
  });
});

describe('headless bridge: failures around it', () => {
  let hub: TestHub;
  afterEach(async () => {
    await stopAllBridges();
    await hub.close();
  });

  it('reconnects after a hub restart on the same data dir and port, and keeps serving', async () => {
    hub = await startTestHub();
    const { bridge, info } = await startPythonBridge(hub, { name: 'py-restart' });
    expect((await run(hub, '"before"')).result).toBe('before');
    const port = Number(new URL(hub.url).port);
    await hub.stop();
    hub = await startTestHub({ dataDir: hub.dataDir, port });
    const again = await waitForExtension(hub.url, hub.tokens.viewer, 'py-restart', 20_000);
    expect(again.id).toBe(info.id);
    expect(await run(hub, '"after"')).toMatchObject({
      status: 'succeeded',
      result: 'after',
      extensionId: info.id,
    });
    expect(bridge.output()).toMatch(/re-registered as/);
  });

  it('runs a job the hub re-queued after its restart once more, and reports to the new hub', async () => {
    hub = await startTestHub();
    const { info } = await startPythonBridge(hub, { name: 'py-through' });
    const task = await submit(hub, 'import time\nprint("start")\ntime.sleep(2)\n"survived"', { retries: 1 });
    await taskWhere(hub, task.id, (t) => t.status === 'running');
    const port = Number(new URL(hub.url).port);
    await hub.stop();
    hub = await startTestHub({ dataDir: hub.dataDir, port });
    // The new hub re-queues the task (hub_restarted). The bridge claims it when it registers again; the hub
    // stops that attempt and dispatches the task anew, and only the new attempt's result may end it.
    const done = await ended(hub, task.id);
    expect(done).toMatchObject({
      status: 'succeeded',
      result: 'survived',
      extensionId: info.id,
      attempts: 2,
    });
  });

  it('fails the task when the bridge is killed mid-job with no retries left', async () => {
    hub = await startTestHub();
    const { bridge } = await startPythonBridge(hub, { name: 'py-doomed' });
    const task = await submit(hub, 'import time\nprint("working")\ntime.sleep(60)', { retries: 0 });
    await taskWhere(hub, task.id, (t) => t.status === 'running');
    bridge.child.kill('SIGKILL');
    const done = await ended(hub, task.id);
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('extension_lost');
    expect(done.error?.message).toMatch(/extension .* disconnected/);
  });

  it('re-queues the task when the bridge is killed mid-job with retries left, and another bridge runs it', async () => {
    hub = await startTestHub();
    const { bridge } = await startPythonBridge(hub, { name: 'py-first' });
    const code = 'import time\ntime.sleep(2)\n"finished"';
    const task = await submit(hub, code, { retries: 1 });
    await taskWhere(hub, task.id, (t) => t.status === 'running');
    bridge.child.kill('SIGKILL');
    await taskWhere(hub, task.id, (t) => t.status === 'queued' && t.attempts === 1);
    const second = await startPythonBridge(hub, { name: 'py-second' });
    const done = await ended(hub, task.id);
    expect(done).toMatchObject({
      status: 'succeeded',
      result: 'finished',
      attempts: 2,
      extensionId: second.info.id,
    });
  });

  it('exits with an error when the hub refuses its token', async () => {
    hub = await startTestHub();
    const bridge: PythonBridge = spawnPythonBridge(hub.url, 'sb_ext_not-a-valid-token-at-all', {
      name: 'py-bad',
    });
    expect(await bridge.exited).toBe(1);
    expect(bridge.output()).toMatch(/refused/);
  });

  it('exits 0 on SIGTERM and leaves the hub', async () => {
    hub = await startTestHub();
    const { bridge } = await startPythonBridge(hub, { name: 'py-term' });
    expect(await bridge.stop()).toBe(0);
    await until(async () => {
      const res = await http<ExtensionInfo[]>(hub.url, hub.tokens.viewer, 'GET', '/api/v1/extensions');
      return !res.body.some((e) => e.name === 'py-term');
    });
  });
});

describe('the Kit extension under the Kit stand-in', () => {
  let hub: TestHub;
  afterEach(async () => {
    await stopAllBridges();
    await hub.close();
  });

  it('runs jobs on the main thread with the stage, and stops busy code there', async () => {
    hub = await startTestHub();
    const { info } = await startPythonBridge(hub, { name: 'kit-standin', mode: 'kit', labels: ['kit'] });
    expect(info.capabilities).toMatchObject({ hostApp: 'kit-standin', hostVersion: '106.0.0' });
    const task = await run(
      hub,
      'import threading\n[threading.current_thread() is threading.main_thread(), stage.name, Usd.__name__]',
    );
    expect(task).toMatchObject({ status: 'succeeded', result: [true, 'standin-stage', 'pxr.Usd'] });
    expect((await run(hub, 'while True: pass', { timeoutMs: 1_000 })).status).toBe('timed_out');
    expect(await run(hub, 'omni.kit.app.get_app().updates > 0')).toMatchObject({ result: true });
  });
});
