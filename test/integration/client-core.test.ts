import { createServer } from 'node:http';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { requestWithAck } from '../../client/core/ack.js';
import { hubRequest } from '../../client/core/http.js';
import * as core from '../../client/core/index.js';
import { HttpApi, SwitchboardClient, SwitchboardError } from '../../client/sdk/index.js';
import { ErrorCode } from '../../server/protocol/index.js';
import { runCli } from '../helpers/cli.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('the client core shared by the SDK, the CLI and the monitor', () => {
  it("is the SDK's error type, and lists exactly the hub's catalogue", () => {
    expect(SwitchboardError).toBe(core.SwitchboardError);
    expect([...core.HUB_ERROR_CODES].sort()).toEqual([...ErrorCode.options].sort());
    for (const code of core.CLIENT_ERROR_CODES) expect(ErrorCode.safeParse(code).success).toBe(false);
  });

  it('names a closed port hub_unreachable in the SDK (HTTP and socket) and in the CLI, human and JSON', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const http = new HttpApi({ url, token: 'sb_x', timeoutMs: 5_000 });
    const err = await http.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(core.SwitchboardError);
    expect(err).toMatchObject({ code: 'hub_unreachable' });
    const client = new SwitchboardClient({ url, token: 'sb_x' });
    await expect(client.connect()).rejects.toMatchObject({ code: 'hub_unreachable' });
    await client.close();

    const human = await runCli(['tasks', '--hub', url, '--token', 'sb_x']);
    expect(human.code).toBe(5);
    expect(human.stderr).toMatch(/^error: hub_unreachable: /m);
    const json = await runCli(['tasks', '--hub', url, '--token', 'sb_x', '--json']);
    expect(json.code).toBe(5);
    const line = [json.stdout, json.stderr]
      .join('\n')
      .split('\n')
      .find((l) => l.includes('"error"'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({ type: 'error', error: { code: 'hub_unreachable' } });
  });

  it("reads a real hub's HTTP refusals and socket acks into the same errors", async () => {
    hub = await startTestHub();
    const refused = await hubRequest(
      { url: hub.url, token: 'sb_wrong', timeoutMs: 5_000 },
      'GET',
      '/api/v1/tasks',
    ).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'unauthorized', status: 401 });
    const ok = await hubRequest(
      { url: `${hub.url}/`, token: hub.tokens.viewer, timeoutMs: 5_000 },
      'GET',
      '/api/v1/tasks',
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ tasks: [] });

    const socket = io(`${hub.url}/monitor`, {
      auth: { token: hub.tokens.viewer },
      transports: ['websocket'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      const missing = await requestWithAck(socket, 'task:get', { taskId: 't_missing' }, 10_000);
      expect(missing.ok).toBe(false);
      if (!missing.ok) {
        expect(missing.error).toBeInstanceOf(core.SwitchboardError);
        expect(missing.error.code).toBe('not_found');
      }
      const bad = await requestWithAck(socket, 'task:get', { taskId: '' }, 10_000);
      expect(bad.ok || bad.error.code).toBe('bad_request');
      socket.disconnect();
      const offline = await requestWithAck(socket, 'task:get', { taskId: 't_missing' }, 10_000);
      expect(offline.ok || offline.error.code).toBe('hub_unreachable');
    } finally {
      socket.disconnect();
    }
  });

  it('turns a socket.io connect refusal and a missed deadline into catalogue and client codes', () => {
    const refusedHandshake = Object.assign(new Error('unauthorized'), {
      data: { code: 'unauthorized', message: 'bad token' },
    });
    expect(core.errorFromConnect(refusedHandshake, 'http://hub')).toMatchObject({ code: 'unauthorized' });
    expect(core.errorFromConnect(new Error('websocket error'), 'http://hub')).toMatchObject({
      code: 'hub_unreachable',
    });
    expect(core.toSwitchboardError(new Error('operation has timed out'), 'task:get')).toMatchObject({
      code: 'request_timeout',
    });
    expect(core.errorFromHttp(502, '<html>bad gateway</html>')).toMatchObject({
      code: 'internal',
      status: 502,
    });
    expect(core.readAck({ ok: false, error: { code: 'nope', message: 'x' } }, 'e')).toMatchObject({
      ok: false,
      error: { code: 'bad_response' },
    });
  });
});
