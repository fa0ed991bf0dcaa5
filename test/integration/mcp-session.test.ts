import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool, jsonResult } from '../../server/mcp/index.js';
import type { Task } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { type McpTestClient, mcpError, mcpHttpClient, streamedTaskId, structured } from '../helpers/mcp.js';
import { startPythonBridge, stopAllBridges } from '../helpers/python-bridge.js';

let hub: TestHub;
let extensionId: string;
let gates: string;
const clients: McpTestClient[] = [];

async function connect(token: string, sessionId?: string): Promise<McpTestClient> {
  const c = await mcpHttpClient(hub.url, token, sessionId ? { sessionId } : {});
  clients.push(c);
  return c;
}

/** A TCP proxy to the hub whose open connections the test can cut, as a network drop would. */
async function tcpProxy(target: string) {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((down) => {
    const up = createConnection(Number(port), hostname);
    for (const [a, b] of [
      [down, up],
      [up, down],
    ] as const) {
      sockets.add(a);
      a.on('error', () => undefined);
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
    }
    down.pipe(up);
    up.pipe(down);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut: () => {
      for (const s of [...sockets]) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of [...sockets]) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function taskOf(id: string): Promise<Task> {
  return (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;
}

function gated(gate: string): string {
  return [
    'import os, time',
    "print('before', flush=True)",
    `while not os.path.exists(${JSON.stringify(gate)}):`,
    '    time.sleep(0.05)',
    "print('after')",
    "'resumed'",
  ].join('\n');
}

beforeAll(async () => {
  // A contributed tool source, as the plugin subsystem will plug in: one reading tool, one that runs code,
  // and a broken source that must not take tools/list down.
  const contributed = [
    () => [
      defineTool({
        name: 'count_extensions',
        description: 'How many extensions are online (a contributed tool)',
        action: 'read',
        input: z.object({}).strict(),
        run: async (_args, call) => jsonResult({ count: call.hub.registry.list().length }),
      }),
      defineTool({
        name: 'list_tasks',
        description: 'A contributed tool whose name is taken: dropped',
        action: 'read',
        input: z.object({}).strict(),
        run: async () => jsonResult({ impostor: true }),
      }),
    ],
    () => {
      throw new Error('this plugin subsystem is broken');
    },
  ];
  hub = await startTestHub({}, { mcpTools: contributed });
  ({
    info: { id: extensionId },
  } = await startPythonBridge(hub, { name: 'mcp-session-py', concurrency: 1 }));
  gates = mkdtempSync(join(tmpdir(), 'sb-mcp-session-'));
}, 60_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
});

afterAll(async () => {
  await stopAllBridges();
  await hub?.close();
  rmSync(gates, { recursive: true, force: true });
});

describe('MCP resources', () => {
  it('serves the extensions and each task with its events', async () => {
    const c = await connect(hub.tokens.viewer);
    const { resourceTemplates } = await c.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(['switchboard://tasks/{id}']);
    const exts = await c.client.readResource({ uri: 'switchboard://extensions' });
    const extBody = JSON.parse(String((exts.contents[0] as { text: string }).text));
    expect(extBody.extensions.map((e: { id: string }) => e.id)).toEqual([extensionId]);

    const op = await connect(hub.tokens.operator);
    const run = structured(await op.call('execute_python', { code: "print('for the record')\n'kept'" }));
    const uri = `switchboard://tasks/${run['taskId']}`;
    const { resources } = await c.client.listResources();
    expect(resources.map((r) => r.uri)).toContain('switchboard://extensions');
    expect(resources.map((r) => r.uri)).toContain(uri);
    const read = await c.client.readResource({ uri });
    expect(read.contents[0]).toMatchObject({ uri, mimeType: 'application/json' });
    const body = JSON.parse(String((read.contents[0] as { text: string }).text));
    expect(body.task).toMatchObject({ id: run['taskId'], status: 'succeeded', result: 'kept' });
    const outputs = body.events.filter((e: { type: string }) => e.type === 'output');
    expect(outputs.map((e: { data: { text: string } }) => e.data.text).join('')).toBe('for the record\n');
    const missing = await mcpError(c.client.readResource({ uri: 'switchboard://tasks/nope' }));
    expect(missing.code).toBe(-32002);
    expect(missing.data).toMatchObject({ code: 'not_found', field: 'uri' });
  });
});

describe('MCP sessions', () => {
  it('lets a dropped client resume its stream with Last-Event-ID and get the rest and the result', async () => {
    const a = await connect(hub.tokens.operator);
    const sessionId = a.transport.sessionId as string;
    const gate = join(gates, 'resume');
    let token: string | undefined;
    const first = a.client
      .callTool({ name: 'execute_python', arguments: { code: gated(gate) } }, undefined, {
        onresumptiontoken: (t) => {
          token = t;
        },
        timeout: 60_000,
      })
      .catch((err: unknown) => err);
    await until(() => a.streamed().includes('before'), 20_000, 'the first line');
    const taskId = streamedTaskId(a);
    // The client goes away mid-call (its connections are cut, no DELETE); the task runs on meanwhile.
    await a.transport.close();
    expect(await first).toBeInstanceOf(Error);
    expect(token).toBeTruthy();
    writeFileSync(gate, '');
    await until(async () => (await taskOf(taskId)).status === 'succeeded', 20_000, 'the task to finish');

    // A new client on the same session resumes the call's stream from the last event it saw.
    const b = await connect(hub.tokens.operator, sessionId);
    const resumed = await b.client.request(
      { method: 'tools/call', params: { name: 'execute_python', arguments: { code: gated(gate) } } },
      CallToolResultSchema,
      { resumptionToken: token, timeout: 60_000 },
    );
    expect(b.streamed()).toBe('after\n');
    expect(structured(resumed)).toMatchObject({
      taskId,
      status: 'succeeded',
      result: 'resumed',
      output: 'before\nafter\n',
    });
    // Resuming ran nothing again: still one task with this code.
    const tasks = await http<{ tasks: Task[] }>(
      hub.url,
      hub.tokens.viewer,
      'GET',
      '/api/v1/tasks?kind=code&limit=1000',
    );
    expect(tasks.body.tasks.filter((t) => t.id === taskId)).toHaveLength(1);
  });

  it('the SDK client resumes by itself when the network drops mid-call', async () => {
    const proxy = await tcpProxy(hub.url);
    try {
      const c = await mcpHttpClient(proxy.url, hub.tokens.operator);
      clients.push(c);
      const gate = join(gates, 'network');
      const pending = c.call('execute_python', { code: gated(gate) });
      await until(() => c.streamed().includes('before'), 20_000, 'the first line');
      const taskId = streamedTaskId(c);
      proxy.cut();
      writeFileSync(gate, '');
      await until(async () => (await taskOf(taskId)).status === 'succeeded', 20_000, 'the task to finish');
      // The transport reconnects with Last-Event-ID and gets the rest of the stream and the result.
      const result = await pending;
      expect(structured(result)).toMatchObject({ taskId, status: 'succeeded', result: 'resumed' });
      expect(c.streamed()).toBe('before\nafter\n');
    } finally {
      await proxy.close();
    }
  });

  it('ending a session (DELETE) cancels its calls in flight and forgets it', async () => {
    const c = await connect(hub.tokens.operator);
    const sessionId = c.transport.sessionId as string;
    const pending = c
      .call('execute_python', { code: "print('spin', flush=True)\nwhile True: pass" })
      .catch((e: unknown) => e);
    await until(() => c.streamed().includes('spin'), 20_000, 'the loop');
    const taskId = streamedTaskId(c);
    await c.transport.terminateSession();
    await until(
      async () => (await taskOf(taskId)).status === 'cancelled',
      20_000,
      'the task to be cancelled',
    );
    expect(hub.hub.mcp.sessions.get(sessionId)).toBeUndefined();
    const after = await http(
      hub.url,
      hub.tokens.operator,
      'POST',
      '/mcp',
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      {
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
      },
    );
    expect(after.status).toBe(404);
    await c.close();
    expect(await pending).toBeInstanceOf(Error);
    // The host is free again.
    const again = await connect(hub.tokens.operator);
    expect(structured(await again.call('execute_python', { code: '3' }))).toMatchObject({ result: 3 });
  });
});

describe('MCP session limits and log levels', () => {
  it('logging/setLevel filters the output messages; progress still flows', async () => {
    const c = await connect(hub.tokens.operator);
    await c.client.setLoggingLevel('error');
    const result = await c.call('execute_python', { code: "print('quiet please')\n'ok'" });
    expect(structured(result)).toMatchObject({ result: 'ok', output: 'quiet please\n' });
    expect(c.seen.filter((s) => s.kind === 'log')).toEqual([]);
    const progress = c.seen.flatMap((s) => (s.kind === 'progress' ? [s.message ?? ''] : []));
    expect(progress.join('')).toBe('quiet please\n');
  });

  it('refuses an initialize past SWITCHBOARD_MCP_MAX_SESSIONS until a session ends', async () => {
    const small = await startTestHub({ mcpMaxSessions: 1 });
    try {
      const first = await mcpHttpClient(small.url, small.tokens.viewer);
      const refused = await mcpHttpClient(small.url, small.tokens.viewer).then(
        () => null,
        (e: unknown) => e as { code?: number; message: string },
      );
      expect(refused?.code).toBe(429);
      expect(refused?.message).toContain('too many MCP sessions open');
      await first.transport.terminateSession();
      await first.close();
      const again = await mcpHttpClient(small.url, small.tokens.viewer);
      expect((await again.client.listTools()).tools.length).toBeGreaterThan(0);
      await again.close();
    } finally {
      await small.close();
    }
  });
});

describe('MCP workflows and contributed tools', () => {
  it('run_workflow streams the model tokens as notifications before the answer', async () => {
    const c = await connect(hub.tokens.operator);
    const result = await c.call('run_workflow', { message: 'hello there' });
    const body = structured(result);
    expect(body).toMatchObject({ status: 'succeeded', error: null });
    const tokens = c.seen.filter((s) => s.kind === 'log' && s.logger === 'token');
    expect(tokens.length).toBeGreaterThan(1);
    const text = tokens.map((s) => (s.kind === 'log' ? String(s.data['text']) : '')).join('');
    expect(JSON.stringify(body['result'])).toContain(JSON.stringify(text).slice(1, -1));
    expect(c.seen.findLastIndex((s) => s.kind === 'log' && s.logger === 'token')).toBeLessThan(
      c.seen.findIndex((s) => s.kind === 'result'),
    );
    expect(await taskOf(String(body['taskId']))).toMatchObject({ kind: 'workflow', status: 'succeeded' });
  });

  it('serves contributed tools next to its own; a clash or a broken source does not break the list', async () => {
    const c = await connect(hub.tokens.viewer);
    const names = (await c.client.listTools()).tools.map((t) => t.name);
    expect(names.filter((n) => n === 'list_tasks')).toHaveLength(1);
    expect(names.at(-1)).toBe('count_extensions');
    expect(structured(await c.call('count_extensions', {}))).toEqual({ count: 1 });
    expect(structured(await c.call('list_tasks', {}))).toHaveProperty('tasks');
  });

  it('refuses the SSE stream of a session that has ended', async () => {
    const c = await connect(hub.tokens.viewer);
    const sessionId = c.transport.sessionId as string;
    await c.transport.terminateSession();
    const res = await http(hub.url, hub.tokens.viewer, 'GET', '/mcp', undefined, {
      accept: 'text/event-stream',
      'mcp-session-id': sessionId,
    });
    expect(res.status).toBe(404);
  });
});
