import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallToolResultSchema, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { type McpTestClient, mcpError, mcpHttpClient, streamedTaskId, structured } from '../helpers/mcp.js';
import { startPythonBridge, stopAllBridges } from '../helpers/python-bridge.js';

let hub: TestHub;
let extensionId: string;
let gates: string;
const clients: McpTestClient[] = [];

async function connect(token: string | null): Promise<McpTestClient> {
  const c = await mcpHttpClient(hub.url, token);
  clients.push(c);
  return c;
}

/** Python that prints `before`, then waits until the test creates `gate`, then prints `after`. */
function gated(gate: string, result = "'end'"): string {
  return [
    'import os, time',
    "print('before', flush=True)",
    `while not os.path.exists(${JSON.stringify(gate)}):`,
    '    time.sleep(0.05)',
    "print('after')",
    result,
  ].join('\n');
}

async function taskOf(id: string): Promise<Task> {
  const res = await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

beforeAll(async () => {
  hub = await startTestHub();
  ({
    info: { id: extensionId },
  } = await startPythonBridge(hub, {
    name: 'mcp-py',
    labels: ['py'],
    concurrency: 1,
  }));
  gates = mkdtempSync(join(tmpdir(), 'sb-mcp-gates-'));
}, 60_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
});

afterAll(async () => {
  await stopAllBridges();
  await hub?.close();
  rmSync(gates, { recursive: true, force: true });
});

describe('MCP over streamable HTTP', () => {
  it('lists the hub tools with their argument schemas', async () => {
    const c = await connect(hub.tokens.operator);
    const { tools } = await c.client.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      'list_extensions',
      'execute_python',
      'get_scene_info',
      'get_prim',
      'run_workflow',
      'list_tasks',
      'get_task',
      'cancel_task',
      // then every plugin tool (the built-in demo plugin's; see mcp-plugins.test.ts)
      'text2image',
    ]);
    const exec = tools.find((t) => t.name === 'execute_python');
    expect(exec?.inputSchema.required).toEqual(['code']);
    expect(Object.keys(exec?.inputSchema.properties ?? {})).toEqual([
      'code',
      'extensionId',
      'label',
      'timeout',
    ]);
    const listed = await c.call('list_extensions', {});
    expect(structured(listed)['extensions']).toEqual([
      expect.objectContaining({ id: extensionId, name: 'mcp-py', labels: ['py'] }),
    ]);
  });

  it('streams output as notifications while the code runs, before the result', async () => {
    const c = await connect(hub.tokens.operator);
    const gate = join(gates, 'stream');
    const pending = c.call('execute_python', { code: gated(gate, '6 * 7'), label: 'py' });
    // The first line arrives while the code is still blocked on the gate: streamed, not buffered.
    await until(() => c.streamed().includes('before'), 20_000, 'the first output line');
    const taskId = streamedTaskId(c);
    expect((await taskOf(taskId)).status).toBe('running');
    expect(c.seen.some((s) => s.kind === 'result')).toBe(false);
    writeFileSync(gate, '');
    const result = await pending;
    expect(result.isError).toBeUndefined();
    expect(structured(result)).toMatchObject({
      taskId,
      status: 'succeeded',
      extensionId,
      result: 42,
      output: 'before\nafter\n',
      error: null,
    });
    expect(JSON.parse((result.content[0] as { text: string }).text)).toEqual(structured(result));
    // Every output notification (log and progress) came before the result.
    const resultAt = c.seen.findIndex((s) => s.kind === 'result');
    const lastOutput = c.seen.findLastIndex((s) => s.kind === 'log' && s.logger === 'stdout');
    const lastProgress = c.seen.findLastIndex((s) => s.kind === 'progress');
    expect(c.streamed()).toBe('before\nafter\n');
    expect(lastOutput).toBeGreaterThan(-1);
    expect(lastOutput).toBeLessThan(resultAt);
    expect(lastProgress).toBeGreaterThan(-1);
    expect(lastProgress).toBeLessThan(resultAt);
    // An ordinary task: the native API shows it with its code and output events.
    const task = await taskOf(taskId);
    expect(task).toMatchObject({
      kind: 'code',
      status: 'succeeded',
      result: 42,
      input: { code: gated(gate, '6 * 7') },
    });
  });

  it('returns a failure as a tool error with the traceback', async () => {
    const c = await connect(hub.tokens.operator);
    const result = await c.call('execute_python', { code: "print('about to fail')\n1 / 0" });
    expect(result.isError).toBe(true);
    const body = structured(result);
    expect(body).toMatchObject({ status: 'failed', output: 'about to fail\n' });
    const error = body['error'] as { message: string; traceback: string };
    expect(error.message).toContain('ZeroDivisionError');
    expect(error.traceback).toContain('1 / 0');
  });

  it('answers code the policy refuses with a tool error the model can read', async () => {
    const c = await connect(hub.tokens.operator);
    const result = await c.call('execute_python', { code: "import subprocess\nsubprocess.run(['ls'])" });
    expect(result.isError).toBe(true);
    expect(structured(result)).toMatchObject({
      status: 'refused',
      error: { code: 'policy_denied', field: 'code' },
    });
  });

  it('cancels the task for real on MCP cancellation, and the host takes the next job', async () => {
    const c = await connect(hub.tokens.operator);
    const abort = new AbortController();
    const pending = c.call(
      'execute_python',
      { code: "print('spinning', flush=True)\nwhile True: pass" },
      {
        signal: abort.signal,
      },
    );
    await until(() => c.streamed().includes('spinning'), 20_000, 'the loop to start');
    const taskId = streamedTaskId(c);
    abort.abort('the user changed their mind');
    await expect(pending).rejects.toThrow();
    const cancelled = await until(
      async () => {
        const t = await taskOf(taskId);
        return t.status === 'cancelled' && t;
      },
      20_000,
      'the task to end cancelled',
    );
    expect(cancelled.error).toBeNull();
    // The host stopped the loop: its only slot is free for the next job.
    const next = await c.call('execute_python', { code: "'free again'", extensionId });
    expect(structured(next)).toMatchObject({ status: 'succeeded', result: 'free again' });
  });

  it('lists, gets and cancels tasks', async () => {
    const c = await connect(hub.tokens.operator);
    const submitted = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
      code: "print('looping', flush=True)\nwhile True: pass",
      target: { extensionId },
    });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id;
    await until(async () => (await taskOf(id)).status === 'running', 20_000, 'the task to run');
    const listed = structured(await c.call('list_tasks', { kind: 'code', status: 'running' }));
    expect((listed['tasks'] as Array<{ id: string }>).map((t) => t.id)).toEqual([id]);
    // Output reaches the hub a little after `running` (hosts coalesce it): wait for it before cancelling.
    await until(
      async () =>
        (
          structured(await c.call('get_task', { taskId: id, events: true }))['events'] as Array<{
            type: string;
          }>
        ).some((e) => e.type === 'output'),
      20_000,
      'the loop to print',
    );
    const cancelled = structured(await c.call('cancel_task', { taskId: id }));
    expect(cancelled['task']).toMatchObject({ id, status: 'cancelled' });
    const got = structured(await c.call('get_task', { taskId: id, events: true }));
    expect(got['task']).toMatchObject({ id, status: 'cancelled', kind: 'code' });
    const events = got['events'] as Array<{ seq: number; type: string }>;
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.some((e) => e.type === 'output')).toBe(true);
    const again = await mcpError(c.call('cancel_task', { taskId: id }));
    expect(again.code).toBe(ErrorCode.InvalidRequest);
    expect(again.data).toMatchObject({ code: 'task_finished' });
  });
});

describe('MCP roles and auth', () => {
  it('lets a viewer read but not execute or cancel, with a clear MCP error', async () => {
    const before = await http<{ tasks: Task[] }>(
      hub.url,
      hub.tokens.viewer,
      'GET',
      '/api/v1/tasks?limit=1000',
    );
    const c = await connect(hub.tokens.viewer);
    expect((await c.client.listTools()).tools.length).toBeGreaterThan(0);
    expect(structured(await c.call('list_extensions', {}))['extensions']).toHaveLength(1);
    const refused = await mcpError(c.call('execute_python', { code: "'no'" }));
    expect(refused.code).toBe(-32003);
    expect(refused.message).toContain('role "viewer" may not submit');
    expect(refused.data).toMatchObject({ code: 'forbidden' });
    const noCancel = await mcpError(c.call('cancel_task', { taskId: 'whatever' }));
    expect(noCancel.data).toMatchObject({ code: 'forbidden' });
    // No task was created for the refused call.
    const after = await http<{ tasks: Task[] }>(
      hub.url,
      hub.tokens.viewer,
      'GET',
      '/api/v1/tasks?limit=1000',
    );
    expect(after.body.tasks.length).toBe(before.body.tasks.length);
  });

  it('answers no token with 401 and the extension token with 403', async () => {
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    };
    const headers = { accept: 'application/json, text/event-stream' };
    const none = await fetch(`${hub.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(init),
    });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const ext = await http(hub.url, hub.tokens.extension, 'POST', '/mcp', init, headers);
    expect(ext.status).toBe(403);
    // The SDK client fails to connect with the HTTP status and the hub's error body.
    for (const token of [null, 'sb_not_a_real_token_at_all']) {
      const err = await mcpHttpClient(hub.url, token).then(
        () => null,
        (e: unknown) => e as { code?: number; message: string },
      );
      expect(err?.code).toBe(401);
      expect(err?.message).toContain('unauthorized');
    }
  });

  it('keeps a session to the role that opened it', async () => {
    const c = await connect(hub.tokens.viewer);
    const sessionId = c.transport.sessionId as string;
    const res = await http(
      hub.url,
      hub.tokens.operator,
      'POST',
      '/mcp',
      { jsonrpc: '2.0', id: 9, method: 'tools/list' },
      {
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
      },
    );
    expect(res.status).toBe(403);
    const unknown = await http(
      hub.url,
      hub.tokens.operator,
      'POST',
      '/mcp',
      { jsonrpc: '2.0', id: 9, method: 'tools/list' },
      {
        accept: 'application/json, text/event-stream',
        'mcp-session-id': 'no-such-session',
      },
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { data: { code: 'not_found', field: 'mcp-session-id' } } });
  });
});

describe('MCP bad arguments', () => {
  it('answers each with InvalidParams naming the field', async () => {
    const c = await connect(hub.tokens.operator);
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['execute_python', {}, 'code'],
      ['execute_python', { code: '' }, 'code'],
      ['execute_python', { code: '1', timeout: -5 }, 'timeout'],
      ['execute_python', { code: '1', colour: 'red' }, 'colour'],
      ['execute_python', { code: '1', label: 'not a label!' }, 'label'],
      ['execute_python', { code: '1', extensionId: 'nobody-home' }, 'extensionId'],
      ['execute_python', { code: '1', label: 'absent' }, 'label'],
      ['get_task', { taskId: 'no-such-task' }, 'taskId'],
      ['list_tasks', { status: 'sleeping' }, 'status'],
      ['list_tasks', { limit: 0 }, 'limit'],
      ['get_prim', { path: 'World/Cube' }, 'path'],
      ['run_workflow', { message: 'hi', workflow: 'nope' }, 'workflow'],
      ['no_such_tool', {}, 'name'],
    ];
    for (const [tool, args, field] of cases) {
      const err = await mcpError(c.call(tool, args));
      expect(err.code, `${tool} ${JSON.stringify(args)}`).toBe(ErrorCode.InvalidParams);
      expect(err.data, `${tool} ${JSON.stringify(args)}`).toMatchObject({ field });
      expect(err.message).toContain(`${field}:`);
    }
    // Malformed request params (not tool arguments) are InvalidParams naming the field too.
    const raw = [
      [{ method: 'tools/call', params: { name: 5 } }, 'name'],
      [{ method: 'tools/call', params: { name: 'get_task', arguments: 'taskId=1' } }, 'arguments'],
      [{ method: 'resources/read', params: {} }, 'uri'],
    ] as const;
    for (const [request, field] of raw) {
      const err = await mcpError(c.client.request(request as never, CallToolResultSchema));
      expect(err.code).toBe(ErrorCode.InvalidParams);
      expect(err.message).toMatch(new RegExp(`\\b${field}\\b`));
    }
    // The session is still usable after all of that.
    expect(structured(await c.call('list_extensions', {}))['extensions']).toHaveLength(1);
  });
});
