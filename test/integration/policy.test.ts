import { afterEach, describe, expect, it } from 'vitest';
import type { ErrorBody, Task, TaskEvent } from '../../server/protocol/index.js';
import { call, eventsUntilEnd, http, monitorClient } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { scriptedExtension } from '../helpers/scripted-extension.js';

let hub: TestHub;
afterEach(() => hub?.close());

describe('safety policy at the hub', () => {
  it('refuses denied code over HTTP and sockets, naming rule, line and column, and creates no task', async () => {
    hub = await startTestHub();
    const res = await http<{ error: ErrorBody }>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
      code: 'x = 1\nimport subprocess\n',
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('policy_denied');
    expect(res.body.error.field).toBe('code');
    expect(res.body.error.message).toMatch(/rule import:subprocess, line 2, column 8/);
    const exec = await http<{ error: ErrorBody }>(hub.url, hub.tokens.operator, 'POST', '/execute', {
      code: 'import os\nos.system("ls")',
    });
    expect(exec.status).toBe(422);
    expect(exec.body.error.message).toMatch(/call:os\.system/);
    const socket = await monitorClient(hub.url, hub.tokens.operator);
    const ack = await call(socket, 'task:submit', { code: 'eval(input())' });
    expect(ack.ok).toBe(false);
    if (!ack.ok) expect(ack.error.message).toMatch(/dynamic:eval/);
    const list = await http<{ tasks: Task[] }>(hub.url, hub.tokens.viewer, 'GET', '/api/v1/tasks');
    expect(list.body.tasks).toEqual([]);
    socket.close();
  });

  it('accepts ordinary Kit code', async () => {
    hub = await startTestHub();
    const code = [
      'import omni.usd',
      'from pxr import Usd, UsdGeom, Sdf, Gf',
      'stage = omni.usd.get_context().get_stage()',
      'for i in range(3):',
      '    UsdGeom.Xform.Define(stage, Sdf.Path(f"/World/x{i}"))',
      'async def go():',
      '    return 1',
      'await go()',
    ].join('\n');
    const res = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code });
    expect(res.status).toBe(201);
  });

  it('in permissive mode lets code through with a warning on the task', async () => {
    hub = await startTestHub({ policyMode: 'permissive' });
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'kit' });
    const watcher = await monitorClient(hub.url, hub.tokens.viewer);
    const res = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
      code: 'import socket',
    });
    expect(res.status).toBe(201);
    const events = eventsUntilEnd(watcher, res.body.id);
    await call(watcher, 'task:subscribe', { taskId: res.body.id });
    const logs = (await events).filter((e): e is Extract<TaskEvent, { type: 'log' }> => e.type === 'log');
    expect(logs[0]?.data.level).toBe('warn');
    expect(logs[0]?.data.message).toMatch(/import:socket/);
    ext.close();
    watcher.close();
  });

  it('enforces the size limit in every mode', async () => {
    hub = await startTestHub({ policyMode: 'off', policyMaxCodeBytes: 100 });
    const res = await http<{ error: ErrorBody }>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
      code: `x = "${'a'.repeat(200)}"`,
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect(
      (await http(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'import subprocess' }))
        .status,
    ).toBe(201);
  });
});
