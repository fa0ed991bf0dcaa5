import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskEvent } from '../../server/protocol/index.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { pluginClient, resultText, TEST_PLUGINS_DIR } from '../helpers/plugin-client.js';
import { openSse } from '../helpers/sse-client.js';

/** Real plugin processes misbehaving: crash mid-call, hang, garbage on stdout; and shutdown with the hub. */

let h: TestHub;
let client: ReturnType<typeof pluginClient>;

beforeAll(async () => {
  h = await startTestHub({ pluginsDirs: [TEST_PLUGINS_DIR] });
  client = pluginClient(h.url, h.tokens.operator);
});
afterAll(async () => {
  await h?.close();
});

async function okCall(): Promise<{ pid: number; calls: number; cancelled: number }> {
  const run = await client.execute({ tool_name: 'ok', plugin_name: 'flaky', parameters: { text: 'x' } });
  expect(run.result).toMatchObject({ _type: 'result', status: 'success' });
  return JSON.parse(resultText(run.result));
}

async function events(taskId: string): Promise<TaskEvent[]> {
  const s = await openSse(`${h.url}/api/v1/tasks/${taskId}/events`, { token: h.tokens.viewer });
  await s.ended;
  return s.events.map((e) => e.data as TaskEvent);
}

describe('plugin processes', () => {
  it('a plugin crashing mid-task fails the task with the reason; it restarts and the next task works', async () => {
    const before = await okCall();
    const run = await client.execute({ tool_name: 'crash', plugin_name: 'flaky', parameters: {} });
    expect(run.messages.some((m) => m['type'] === 'progress' && m['message'] === 'about to crash')).toBe(
      true,
    );
    expect(run.result).toMatchObject({ _type: 'result', status: 'error' });
    expect(run.result['error_message']).toMatch(/plugin flaky exited with code 3: .*boom: simulated crash/);
    const task = await client.task(run.taskId);
    expect(task.status).toBe('failed');
    expect(task.error).toMatchObject({ code: 'plugin_failed' });

    const after = await okCall();
    expect(after.pid).not.toBe(before.pid);
    expect(after.calls).toBe(1);
    const flaky = (await client.plugins()).find((p) => p['name'] === 'flaky');
    expect(flaky).toMatchObject({ state: 'ready', pid: after.pid });
    expect(flaky?.['restarts']).toBeGreaterThanOrEqual(1);
    expect(flaky?.['last_error']).toBeNull();
  });

  it('a hanging call times out (timed_out), the plugin is told to cancel and stays usable', async () => {
    const before = await okCall();
    const run = await client.execute({ tool_name: 'hang', plugin_name: 'flaky', parameters: {}, timeout: 2 });
    expect(run.result).toMatchObject({ _type: 'result', status: 'error' });
    expect(run.result['error_message']).toMatch(/timeout of 2s/);
    expect(run.messages.at(-2)).toMatchObject({ type: 'failed', data: { status: 'timed_out' } });
    expect((await client.task(run.taskId)).status).toBe('timed_out');
    const after = await okCall();
    expect(after.pid).toBe(before.pid);
    expect(after.cancelled).toBe(before.cancelled + 1);
  });

  it('cancel ends a hanging call at once as cancelled and sends the MCP cancellation', async () => {
    const before = await okCall();
    const id = await client.create({ tool_name: 'hang', plugin_name: 'flaky', parameters: {} });
    await client.waitFor(id, (s) => s === 'running');
    const cancelled = await client.cancel(id);
    expect(cancelled.status).toBe('cancelled');
    const after = await okCall();
    expect(after.pid).toBe(before.pid);
    expect(after.cancelled).toBe(before.cancelled + 1);
    const evs = await events(id);
    expect(evs.at(-1)).toMatchObject({ type: 'status', data: { status: 'cancelled', reason: 'cancelled' } });
  });

  it('garbage on stdout is skipped: the call answers and the process is not restarted', async () => {
    const before = await okCall();
    const run = await client.execute({ tool_name: 'garbage', plugin_name: 'flaky', parameters: {} });
    expect(run.result).toMatchObject({ status: 'success' });
    expect(resultText(run.result)).toBe('still alive');
    const after = await okCall();
    expect(after.pid).toBe(before.pid);
  });

  it('log notifications become log events; a tool type can map to another MCP tool name', async () => {
    const run = await client.execute({
      tool_name: 'shout',
      plugin_name: 'flaky',
      parameters: { text: 'hey' },
    });
    expect(resultText(run.result)).toBe('HEY');
    const evs = await events(run.taskId);
    expect(evs.find((e) => e.type === 'log')?.data).toEqual({
      level: 'warn',
      message: 'flaky: about to shout hey',
    });
    expect((await client.task(run.taskId)).input).toMatchObject({
      tool: 'shout',
      mcp_tool: 'log_and_answer',
    });
  });

  it('calls beyond the concurrency wait queued and all finish', async () => {
    const ids = await Promise.all(
      Array.from({ length: 6 }, () =>
        client.create({ tool_name: 'ok', plugin_name: 'flaky', parameters: { text: 'q' } }),
      ),
    );
    const ended = await Promise.all(ids.map((id) => client.waitFor(id)));
    expect(ended.map((t) => t.status)).toEqual(Array(6).fill('succeeded'));
  });

  it('the plugin processes stop with the hub', async () => {
    const own = await startTestHub({ pluginsDirs: [TEST_PLUGINS_DIR] });
    const c = pluginClient(own.url, own.tokens.operator);
    const run = await c.execute({ tool_name: 'ok', plugin_name: 'flaky', parameters: {} });
    const { pid } = JSON.parse(resultText(run.result)) as { pid: number };
    expect(() => process.kill(pid, 0)).not.toThrow();
    await own.close();
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('a wedged process fails its MCP ping and is replaced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-wedge-'));
    mkdirSync(join(dir, 'wedge'));
    writeFileSync(
      join(dir, 'wedge', 'plugin.yaml'),
      `name: wedge\ncommand: node\nargs: [${JSON.stringify(join(TEST_PLUGINS_DIR, 'flaky', 'server.mjs'))}]\ntools: [ok]\nstart: eager\nhealth_interval: 1\n`,
    );
    const own = await startTestHub({ pluginsDirs: [dir] });
    let first = 0;
    try {
      const c = pluginClient(own.url, own.tokens.operator);
      const wedge = async () =>
        (await c.plugins()).find((p) => p['name'] === 'wedge') as Record<string, unknown>;
      first = (await wedge())['pid'] as number;
      expect(first).toBeGreaterThan(0);
      // Stopped, not dead: its pipes stay open and only the ping notices.
      process.kill(first, 'SIGSTOP');
      await expect
        .poll(
          async () => {
            const p = await wedge();
            return p['state'] === 'ready' && p['pid'] !== first;
          },
          { timeout: 20_000 },
        )
        .toBe(true);
      const run = await c.execute({ tool_name: 'ok', plugin_name: 'wedge', parameters: {} });
      expect(JSON.parse(resultText(run.result)).pid).not.toBe(first);
      await expect
        .poll(
          () => {
            try {
              process.kill(first, 0);
              return 'alive';
            } catch {
              return 'gone';
            }
          },
          { timeout: 15_000 },
        )
        .toBe('gone');
    } finally {
      try {
        if (first) process.kill(first, 'SIGKILL');
      } catch {}
      await own.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
