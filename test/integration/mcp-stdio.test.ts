import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  type CallToolResult,
  ErrorCode,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { mcpError, structured } from '../helpers/mcp.js';
import { startPythonBridge, stopAllBridges } from '../helpers/python-bridge.js';

const BIN = fileURLToPath(new URL('../../client/cli/bin.mjs', import.meta.url));

let hub: TestHub;
let extensionId: string;
let gates: string;
const open: Array<{ client: Client; transport: StdioClientTransport; stderr: () => string }> = [];

/** The official SDK client launching `switchboard mcp --hub URL --token T` as MCP clients do. */
async function stdioClient(token: string) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', '--hub', hub.url, '--token', token],
    env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1' },
    cwd: tmpdir(),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const client = new Client({ name: 'switchboard-stdio-test', version: '1.0.0' });
  const entry = { client, transport, stderr: () => stderr };
  open.push(entry);
  await client.connect(transport);
  const streamed: string[] = [];
  const order: string[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    const data = n.params.data as { text?: string; taskId?: string };
    if (n.params.logger === 'stdout' || n.params.logger === 'stderr') {
      streamed.push(String(data.text));
      order.push('output');
    }
  });
  const call = async (name: string, args: Record<string, unknown>, signal?: AbortSignal) => {
    const r = (await client.callTool({ name, arguments: args }, undefined, {
      timeout: 60_000,
      ...(signal ? { signal } : {}),
    })) as CallToolResult;
    order.push('result');
    return r;
  };
  return { ...entry, streamed, order, call };
}

async function taskOf(id: string): Promise<Task> {
  return (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;
}

beforeAll(async () => {
  hub = await startTestHub();
  ({
    info: { id: extensionId },
  } = await startPythonBridge(hub, { name: 'mcp-stdio-py', concurrency: 1 }));
  gates = mkdtempSync(join(tmpdir(), 'sb-mcp-stdio-'));
}, 60_000);

afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.client.close().catch(() => undefined)));
});

afterAll(async () => {
  await stopAllBridges();
  await hub?.close();
  rmSync(gates, { recursive: true, force: true });
});

// Each test launches the CLI (tsx) as MCP clients do: give a loaded CI machine room.
describe('switchboard mcp (stdio bridge to a running hub)', { timeout: 90_000 }, () => {
  it('lists tools and streams output before the result', async () => {
    const c = await stdioClient(hub.tokens.operator);
    const names = (await c.client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('execute_python');
    expect(names).toContain('cancel_task');
    const gate = join(gates, 'stream');
    const code = [
      'import os, time',
      "print('hello from stdio', flush=True)",
      `while not os.path.exists(${JSON.stringify(gate)}):`,
      '    time.sleep(0.05)',
      "print('bye')",
      "{'answer': 42}",
    ].join('\n');
    const pending = c.call('execute_python', { code });
    await until(() => c.streamed.join('').includes('hello from stdio'), 20_000, 'streamed output');
    expect(c.order).not.toContain('result');
    writeFileSync(gate, '');
    const result = await pending;
    expect(structured(result)).toMatchObject({
      status: 'succeeded',
      result: { answer: 42 },
      output: 'hello from stdio\nbye\n',
      extensionId,
    });
    expect(c.streamed.join('')).toBe('hello from stdio\nbye\n');
    expect(c.order.indexOf('result')).toBe(c.order.length - 1);
    expect(c.order.filter((o) => o === 'output').length).toBeGreaterThan(0);
  });

  it('cancels the task when the client cancels the call, and ends its hub session on exit', async () => {
    const c = await stdioClient(hub.tokens.operator);
    const abort = new AbortController();
    const pending = c.call(
      'execute_python',
      { code: "print('spin', flush=True)\nwhile True: pass" },
      abort.signal,
    );
    await until(() => c.streamed.join('').includes('spin'), 20_000, 'the loop to start');
    const running = await http<{ tasks: Task[] }>(
      hub.url,
      hub.tokens.viewer,
      'GET',
      '/api/v1/tasks?status=running',
    );
    const id = running.body.tasks[0]?.id as string;
    expect(id).toBeTruthy();
    abort.abort();
    await expect(pending).rejects.toThrow();
    await until(async () => (await taskOf(id)).status === 'cancelled', 20_000, 'the task to be cancelled');
    const next = await c.call('execute_python', { code: '1 + 1' });
    expect(structured(next)).toMatchObject({ status: 'succeeded', result: 2 });
    expect(hub.hub.mcp.sessions.size).toBeGreaterThan(0);
    await c.client.close();
    // stdin closed: the bridge ended its hub session (DELETE) before exiting.
    await until(() => hub.hub.mcp.sessions.size === 0, 20_000, 'the hub session to end');
  });

  it('passes the hub refusals through: a viewer may not execute, a bad token cannot connect', async () => {
    const viewer = await stdioClient(hub.tokens.viewer);
    const refused = await mcpError(viewer.call('execute_python', { code: '1' }));
    expect(refused.code).toBe(-32003);
    expect(refused.message).toContain('role "viewer" may not submit');
    const bad = await mcpError(viewer.call('get_task', { taskId: 'nope' }));
    expect(bad.code).toBe(ErrorCode.InvalidParams);
    expect(bad.data).toMatchObject({ field: 'taskId' });

    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', '--hub', hub.url, '--token', 'sb_definitely_not_a_token'],
      env: { PATH: process.env['PATH'] ?? '' },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const client = new Client({ name: 'bad-token', version: '1' });
    open.push({ client, transport, stderr: () => stderr });
    const err = await mcpError(client.connect(transport));
    expect(err.message).toContain('the hub refused the token (HTTP 401)');
    await until(() => stderr.includes('HTTP 401'), 10_000, 'the refusal on stderr');
  });
});
