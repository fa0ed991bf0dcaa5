import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ReferenceHost } from '../../extension-bridge/host/index.js';
import type { Ack, ExtensionInfo, Registered, Task } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import {
  spawnPythonBridge,
  startPythonBridge,
  stopAllBridges,
  waitForLog,
} from '../helpers/python-bridge.js';
import { gatedTask, ScriptedExtension } from '../helpers/scripted-extension.js';
import { WsClient } from '../helpers/ws-client.js';

const SECRET_HEADER = 'x-switchboard-host-secret';
let hub: TestHub;
const hosts: ReferenceHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
  await stopAllBridges();
  await hub?.close();
});

const getTask = async (id: string) =>
  (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;
const extensions = async () =>
  (await http<ExtensionInfo[]>(hub.url, hub.tokens.viewer, 'GET', '/api/v1/extensions')).body;

/** A live host running a job: after each takeover attempt it must still be online, on its socket, with its job. */
async function victim(name: string) {
  const gated = await gatedTask(hub, name);
  await until(async () => (await getTask(gated.taskId)).status === 'running', 10_000, 'victim job running');
  const untouched = async () => {
    const online = (await extensions()).find((e) => e.id === gated.ext.extensionId);
    expect(online).toMatchObject({ transport: 'socket.io', running: [gated.taskId] });
    expect(gated.ext.socket.connected).toBe(true);
    const t = await getTask(gated.taskId);
    expect(t).toMatchObject({ status: 'running', attempts: 1, extensionId: gated.ext.extensionId });
  };
  const finishes = async () => {
    gated.release();
    await until(async () => (await getTask(gated.taskId)).status === 'succeeded', 10_000, 'victim job done');
    expect((await getTask(gated.taskId)).result).toBe('bystander ok');
  };
  return { ...gated, untouched, finishes };
}

describe('host identity: a host id is its owner’s', () => {
  it('refuses a Socket.IO registration under a live host’s id without its secret, or with a wrong one', async () => {
    hub = await startTestHub();
    const v = await victim('victim-sio');
    const socket = io(`${hub.url}/extension`, {
      auth: { token: hub.tokens.extension },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    try {
      for (const secret of [undefined, 'shs_not-the-right-secret-at-all']) {
        const res = (await socket.timeout(5_000).emitWithAck('register', {
          id: v.ext.extensionId,
          name: 'evil',
          ...(secret ? { secret } : {}),
        })) as Ack<Registered>;
        expect(res.ok).toBe(false);
        if (res.ok) continue;
        expect(res.error).toMatchObject({ code: 'forbidden', field: 'secret' });
        expect(res.error.message).toContain(v.ext.extensionId);
        // Forged reports on the victim's job are refused too: the connection never registered.
        const forged = (await socket.timeout(5_000).emitWithAck('job:result', {
          taskId: v.taskId,
          status: 'succeeded',
          result: 'forged',
        })) as Ack<unknown>;
        expect(forged.ok).toBe(false);
        await v.untouched();
      }
      // The same id derived from the victim's name (no id given) is the victim's too.
      const byName = (await socket
        .timeout(5_000)
        .emitWithAck('register', { name: 'victim-sio' })) as Ack<Registered>;
      expect(!byName.ok && byName.error.code).toBe('forbidden');
      await v.untouched();
    } finally {
      socket.disconnect();
    }
    await v.finishes();
  });

  it('refuses a raw ws registration under a live host’s id', async () => {
    hub = await startTestHub();
    const v = await victim('victim-ws');
    const ws = await WsClient.open(hub.url, '/ws/extension', hub.tokens.extension);
    try {
      const res = await ws.request<Registered>('register', { id: v.ext.extensionId, name: 'evil-ws' });
      expect(!res.ok && res.error).toMatchObject({ code: 'forbidden', field: 'secret' });
      expect(!res.ok && res.error.message).toContain(v.ext.extensionId);
      await v.untouched();
    } finally {
      ws.close();
    }
    await v.finishes();
  });

  it('refuses a poll or a report naming a live host’s id without its secret', async () => {
    hub = await startTestHub();
    const v = await victim('victim-poll');
    const poll = await http<{ error: { code: string; message: string } }>(
      hub.url,
      hub.tokens.extension,
      'GET',
      `/next_code?id=${v.ext.extensionId}&name=evil&wait=0`,
    );
    expect(poll.status).toBe(403);
    expect(poll.body.error.code).toBe('forbidden');
    expect(poll.body.error.message).toContain(v.ext.extensionId);
    await v.untouched();

    // A polling host's own id is protected the same way, on polls and on reports.
    const first = await fetch(`${hub.url}/next_code?id=poller&name=poller&wait=0`, {
      headers: { authorization: `Bearer ${hub.tokens.extension}` },
    });
    const secret = first.headers.get(SECRET_HEADER);
    expect(first.status).toBe(204);
    expect(secret).toMatch(/^shs_/);
    const stolen = http(hub.url, hub.tokens.extension, 'GET', '/next_code?id=poller&name=evil&wait=0');
    expect((await stolen).status).toBe(403);
    const task = (
      await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
        code: 'x',
        target: { extensionId: 'poller' },
      })
    ).body;
    const own = await http<{ task_id: string }>(
      hub.url,
      hub.tokens.extension,
      'GET',
      '/next_code?id=poller&name=poller&wait=10',
      undefined,
      { [SECRET_HEADER]: secret ?? '' },
    );
    expect(own.body.task_id).toBe(task.id);
    const forged = await http<{ error: { code: string } }>(
      hub.url,
      hub.tokens.extension,
      'POST',
      '/status_update',
      { task_id: task.id, status: 'succeeded', result: 'forged' },
    );
    expect(forged.status).toBe(403);
    expect((await getTask(task.id)).status).toBe('dispatched');
    const honest = await http(
      hub.url,
      hub.tokens.extension,
      'POST',
      '/status_update',
      { task_id: task.id, status: 'succeeded', result: 'honest' },
      { [SECRET_HEADER]: secret ?? '' },
    );
    expect(honest.status).toBe(200);
    expect(await getTask(task.id)).toMatchObject({ status: 'succeeded', result: 'honest' });
    await v.untouched();
    await v.finishes();
  });

  it('stores secrets hashed, and a host with its secret registers again after a hub restart', async () => {
    hub = await startTestHub();
    const ext = new ScriptedExtension(hub.url, hub.tokens.extension, { id: 'keeper', name: 'keeper' });
    const first = await ext.start();
    expect(first.hostSecret).toMatch(/^shs_/);
    ext.close();
    const file = readFileSync(join(hub.dataDir, 'host-secrets.json'), 'utf8');
    expect(file).toContain('keeper');
    expect(file).not.toContain(first.hostSecret);
    const port = Number(new URL(hub.url).port);
    await hub.stop();
    hub = await startTestHub({ dataDir: hub.dataDir, port });
    const again = new ScriptedExtension(hub.url, hub.tokens.extension, {
      id: 'keeper',
      name: 'keeper',
      secret: first.hostSecret,
    });
    const second = await again.start();
    expect(second).toMatchObject({ extensionId: 'keeper' });
    expect(second.hostSecret).toBeUndefined();
    again.close();
    const thief = new ScriptedExtension(hub.url, hub.tokens.extension, {
      id: 'keeper',
      name: 'x',
      secret: undefined,
    });
    await expect(thief.start()).rejects.toThrow(
      /forbidden: register: extension id keeper belongs to another host/,
    );
    thief.close();
  });

  it('the reference host keeps its secret in a file and resumes its running job on reconnect', async () => {
    hub = await startTestHub();
    const secretFile = join(mkdtempSync(join(tmpdir(), 'sb-ref-secret-')), 'host.secret');
    const host = new ReferenceHost({
      url: hub.url,
      token: hub.tokens.extension,
      name: 'ref-keeper',
      secretFile,
    });
    hosts.push(host);
    await host.start();
    expect(readFileSync(secretFile, 'utf8').trim()).toMatch(/^shs_/);
    const task = (
      await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
        code: 'import time\nprint("a")\ntime.sleep(2)\n"resumed"',
      })
    ).body;
    await until(async () => (await getTask(task.id)).status === 'running', 10_000, 'job running');
    const again = new Promise<boolean>((resolve) =>
      host.once('registered', (_r, reconnect) => resolve(reconnect)),
    );
    for (const socket of hub.hub.io.of('/extension').sockets.values()) socket.conn.close();
    expect(await again).toBe(true);
    await until(async () => (await getTask(task.id)).status === 'succeeded', 15_000, 'job done');
    expect(await getTask(task.id)).toMatchObject({ result: 'resumed', attempts: 1, extensionId: host.id });
    // A second process with the same name but without the file cannot take the id.
    const impostor = new ReferenceHost({
      url: hub.url,
      token: hub.tokens.extension,
      name: 'ref-keeper',
      startTimeoutMs: 10_000,
    });
    hosts.push(impostor);
    await expect(impostor.start()).rejects.toThrow(/forbidden/);
    expect((await extensions()).find((e) => e.id === host.id)?.online).toBe(true);
  });

  it('the Python bridge keeps its secret: a restart registers under its id, an impostor is refused', async () => {
    hub = await startTestHub();
    const secretsDir = mkdtempSync(join(tmpdir(), 'sb-bridge-own-'));
    const { bridge, info } = await startPythonBridge(hub, { name: 'py-keeper', secretsDir });
    await bridge.stop();
    const { info: again } = await startPythonBridge(hub, { name: 'py-keeper', secretsDir });
    expect(again.id).toBe(info.id);
    const impostor = spawnPythonBridge(hub.url, hub.tokens.extension, {
      name: 'py-keeper',
      secretsDir: mkdtempSync(join(tmpdir(), 'sb-bridge-other-')),
    });
    await waitForLog(impostor, /forbidden/);
    expect(await impostor.exited).toBe(1);
    expect((await extensions()).find((e) => e.id === info.id)?.online).toBe(true);
  });
});
