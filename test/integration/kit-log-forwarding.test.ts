import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExtensionLogs, Task, TaskEvent } from '../../server/protocol/index.js';
import { isTerminal } from '../../server/protocol/index.js';
import { runCli } from '../helpers/cli.js';
import { http, monitorClient, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { startPythonBridge, stopAllBridges } from '../helpers/python-bridge.js';

/** Kit's log (carb logging) forwarded by the extension under the Kit stand-in, to a real hub. */

const BIN = fileURLToPath(new URL('../../client/cli/bin.mjs', import.meta.url));
let hub: TestHub | undefined;
afterEach(async () => {
  await stopAllBridges();
  await hub?.close();
  hub = undefined;
});

async function runJob(h: TestHub, code: string): Promise<Task> {
  const res = await http<Task>(h.url, h.tokens.operator, 'POST', '/api/v1/tasks', {
    code,
    timeoutMs: 20_000,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return until(
    async () => {
      const t = (await http<Task>(h.url, h.tokens.viewer, 'GET', `/api/v1/tasks/${res.body.id}`)).body;
      return isTerminal(t.status) && t;
    },
    20_000,
    'the job to end',
  );
}

async function hostLog(h: TestHub, id: string): Promise<ExtensionLogs> {
  return (await http<ExtensionLogs>(h.url, h.tokens.viewer, 'GET', `/api/v1/extensions/${id}/logs`)).body;
}

describe('Kit log forwarding', () => {
  it("sends Kit's log lines at or above the level to the extension's log stream and the job's room", async () => {
    hub = await startTestHub();
    const { info } = await startPythonBridge(hub, { name: 'kit-logs', mode: 'kit', forwardLog: 'warn' });
    const code = [
      'carb.log_info("below the level")',
      'carb.log_warn("stage saved by the job")',
      'carb.log_error("a texture is missing")',
      '"done"',
    ].join('\n');
    const task = await runJob(hub, code);
    expect(task).toMatchObject({ status: 'succeeded', result: 'done' });

    // The job's room: its own lines as `log` events, at the task event levels.
    const socket = await monitorClient(hub.url, hub.tokens.viewer);
    try {
      const events: TaskEvent[] = [];
      socket.on('task:event', (e) => events.push(e));
      await socket.timeout(5_000).emitWithAck('task:subscribe', { taskId: task.id });
      await until(
        () => events.some((e) => e.type === 'status' && isTerminal(e.data.status)),
        5_000,
        'replay',
      );
      const logs = events.filter((e) => e.type === 'log').map((e) => e.data);
      expect(logs).toEqual([
        { level: 'warn', message: '[__main__] stage saved by the job' },
        { level: 'error', message: '[__main__] a texture is missing' },
      ]);
    } finally {
      socket.close();
    }

    // The extension's stream over HTTP: the same lines, tagged with the job, nothing below warn.
    const kept = await until(async () => {
      const k = await hostLog(hub as TestHub, info.id);
      return k.lines.length >= 2 && k;
    });
    expect(kept.lines.map((l) => [l.level, l.message, l.taskId])).toEqual([
      ['warn', 'stage saved by the job', task.id],
      ['error', 'a texture is missing', task.id],
    ]);
    expect(kept.lines.map((l) => l.seq)).toEqual([1, 2]);

    // The CLI prints them; --follow also gets the lines logged after it started.
    const env = { SWITCHBOARD_URL: hub.url, SWITCHBOARD_TOKEN: hub.tokens.viewer };
    const printed = await runCli(['extensions', 'logs', 'kit-logs'], env);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/WARN +\[__main__\] stage saved by the job \(task /);
    expect(printed.stdout).not.toContain('below the level');

    const follower = spawn(process.execPath, [BIN, 'extensions', 'logs', 'kit-logs', '--follow', '--json'], {
      cwd: tmpdir(),
      env: { PATH: process.env['PATH'], NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    follower.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => follower.on('close', resolve));
    try {
      await until(() => out.includes('a texture is missing'), 15_000, 'the follower to print the backlog');
      const second = await runJob(hub, 'carb.log_warn("a later line")\n1');
      await until(() => out.includes('a later line'), 15_000, 'the follower to print a live line');
      const records = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; seq: number; message: string; taskId?: string });
      expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
      expect(records[2]).toMatchObject({ type: 'log', message: 'a later line', taskId: second.id });
    } finally {
      follower.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 90_000);

  it('is off by default: nothing is forwarded', async () => {
    hub = await startTestHub();
    const { info } = await startPythonBridge(hub, { name: 'kit-quiet', mode: 'kit' });
    const task = await runJob(hub, 'carb.log_error("not forwarded")\n1');
    expect(task.status).toBe('succeeded');
    expect(await hostLog(hub, info.id)).toEqual({ extensionId: info.id, lines: [], dropped: 0 });
  }, 60_000);
});
