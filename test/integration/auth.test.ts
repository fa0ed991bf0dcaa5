import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { buildHub } from '../../server/app.js';
import type { ErrorBody, Task } from '../../server/protocol/index.js';
import { call, eventsUntilEnd, http, monitorClient } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { scriptedExtension } from '../helpers/scripted-extension.js';

const hubs: TestHub[] = [];
const cleanup: Array<() => void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) fn();
  for (const h of hubs.splice(0)) await h.close();
});
async function hubWith(config: Parameters<typeof startTestHub>[0] = {}): Promise<TestHub> {
  const h = await startTestHub(config);
  hubs.push(h);
  return h;
}
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sb-auth-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

type HandshakeError = Error & { data?: ErrorBody };
/** Opens a socket and resolves with it, or with the handshake's connect_error. */
function handshake(
  url: string,
  nsp: '/monitor' | '/extension',
  opts: { token?: string; header?: string } = {},
): Promise<{ socket: Socket; error: null } | { socket: null; error: HandshakeError }> {
  const socket = io(`${url}${nsp}`, {
    auth: opts.token === undefined ? {} : { token: opts.token },
    ...(opts.header ? { extraHeaders: { authorization: opts.header } } : {}),
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  cleanup.push(() => socket.close());
  return new Promise((resolve) => {
    socket.once('connect', () => resolve({ socket, error: null }));
    socket.once('connect_error', (error: HandshakeError) => resolve({ socket: null, error }));
  });
}
async function refused(
  url: string,
  nsp: '/monitor' | '/extension',
  code: string,
  message: RegExp,
  token?: string,
) {
  const res = await handshake(url, nsp, token === undefined ? {} : { token });
  expect(res.error, `${nsp} should refuse the handshake`).not.toBeNull();
  expect(res.error?.message).toMatch(message);
  expect(res.error?.data).toMatchObject({ code, message: expect.stringMatching(message) });
}
type ErrorReply = { error: ErrorBody };

const CODE = { code: 'print(1)' };
/** Every route behind a token, with a request that is valid apart from the token. */
const PROTECTED: Array<[method: string, path: string, body?: unknown]> = [
  ['GET', '/api/v1/tasks'],
  ['POST', '/api/v1/tasks', CODE],
  ['GET', '/api/v1/tasks/t_unknown'],
  ['POST', '/api/v1/tasks/t_unknown/cancel'],
  ['GET', '/api/v1/tasks/t_unknown/events'],
  ['GET', '/api/v1/extensions'],
  ['POST', '/execute', { ...CODE, timeout: 0.1 }],
  ['POST', '/queue', CODE],
  ['GET', '/status/t_unknown'],
  ['GET', '/last_status'],
];

describe('HTTP tokens', () => {
  it.each(PROTECTED)(
    '%s %s: no token, a bad token or a malformed header -> 401 unauthorized',
    async (m, path, body) => {
      const hub = await hubWith();
      const none = await http<ErrorReply>(hub.url, null, m, path, body);
      expect(none.status).toBe(401);
      expect(none.body.error).toMatchObject({ code: 'unauthorized', message: 'a token is required' });
      const wrong = await http<ErrorReply>(hub.url, `${hub.tokens.admin}x`, m, path, body);
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toMatchObject({ code: 'unauthorized', message: 'the token is not valid' });
      const basic = await http<ErrorReply>(hub.url, null, m, path, body, {
        authorization: `Basic ${hub.tokens.admin}`,
      });
      expect(basic.status).toBe(401);
      expect(basic.body.error.code).toBe('unauthorized');
    },
  );

  it('checks the token before it reads the body: no validation details for strangers', async () => {
    const hub = await hubWith();
    for (const path of ['/api/v1/tasks', '/execute', '/queue']) {
      const res = await http<ErrorReply>(hub.url, null, 'POST', path, { bogus: true });
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
    const query = await http<ErrorReply>(hub.url, null, 'GET', '/api/v1/tasks?status=bogus');
    expect(query.status, JSON.stringify(query.body)).toBe(401);
  });

  it('serves /healthz without a token', async () => {
    const hub = await hubWith();
    const res = await http<{ status: string }>(hub.url, null, 'GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
  });
});

describe('Socket.IO handshake tokens', () => {
  it.each(['/monitor', '/extension'] as const)(
    '%s: no token or a bad token -> connect_error unauthorized',
    async (nsp) => {
      const hub = await hubWith();
      await refused(hub.url, nsp, 'unauthorized', /a token is required/);
      await refused(hub.url, nsp, 'unauthorized', /the token is not valid/, 'not-a-token');
      await refused(hub.url, nsp, 'unauthorized', /the token is not valid/, `${hub.tokens.admin}x`);
    },
  );

  it('takes the token from an Authorization header as well as from auth', async () => {
    const hub = await hubWith();
    const res = await handshake(hub.url, '/monitor', { header: `Bearer ${hub.tokens.viewer}` });
    expect(res.error).toBeNull();
    expect((await call(res.socket!, 'extensions:list', {})).ok).toBe(true);
  });

  it('refuses the extension token on /monitor and people tokens on /extension, naming the role', async () => {
    const hub = await hubWith();
    await refused(hub.url, '/monitor', 'forbidden', /role "extension" may not read/, hub.tokens.extension);
    await refused(hub.url, '/extension', 'forbidden', /role "viewer" may not register/, hub.tokens.viewer);
    await refused(
      hub.url,
      '/extension',
      'forbidden',
      /role "operator" may not register/,
      hub.tokens.operator,
    );
  });
});

describe('roles', () => {
  it('a viewer reads and subscribes but may not submit or cancel (HTTP)', async () => {
    const hub = await hubWith();
    const task = (await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', CODE)).body;
    for (const [m, path, body] of [
      ['POST', '/api/v1/tasks', CODE],
      ['POST', '/execute', CODE],
      ['POST', '/queue', CODE],
      ['POST', `/api/v1/tasks/${task.id}/cancel`, undefined],
    ] as const) {
      const res = await http<ErrorReply>(hub.url, hub.tokens.viewer, m, path, body);
      expect(res.status, path).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      expect(res.body.error.message).toMatch(/role "viewer" may not (submit|cancel)/);
    }
    for (const path of [
      '/api/v1/tasks',
      `/api/v1/tasks/${task.id}`,
      '/api/v1/extensions',
      `/status/${task.id}`,
      '/last_status',
    ]) {
      expect((await http(hub.url, hub.tokens.viewer, 'GET', path)).status, path).toBe(200);
    }
    const sse = await fetch(`${hub.url}/api/v1/tasks/${task.id}/events`, {
      headers: { authorization: `Bearer ${hub.tokens.viewer}` },
      signal: AbortSignal.timeout(2_000),
    });
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toMatch(/text\/event-stream/);
    await sse.body?.cancel();
    const still = await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${task.id}`);
    expect(still.body.status).toBe('queued');
  });

  it('a viewer socket is refused submit and cancel with the role named, and keeps reading', async () => {
    const hub = await hubWith();
    const task = (await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', CODE)).body;
    const viewer = await monitorClient(hub.url, hub.tokens.viewer);
    cleanup.push(() => viewer.close());
    for (const [event, payload, action] of [
      ['task:submit', CODE, 'submit'],
      ['task:cancel', { taskId: task.id }, 'cancel'],
    ] as const) {
      const res = await call(viewer, event, payload);
      expect(res).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      expect(!res.ok && res.error.message).toBe(`${event}: role "viewer" may not ${action}`);
    }
    expect(viewer.connected).toBe(true);
    expect(await call(viewer, 'task:get', { taskId: task.id })).toMatchObject({
      ok: true,
      data: { status: 'queued' },
    });
    expect((await call(viewer, 'task:list', {})).ok).toBe(true);
    expect((await call(viewer, 'task:subscribe', { taskId: task.id })).ok).toBe(true);
    expect((await call(viewer, 'feed:subscribe', {})).ok).toBe(true);
    expect((await call(viewer, 'extensions:list', {})).ok).toBe(true);
  });

  it('an operator submits and cancels over HTTP and the socket', async () => {
    const hub = await hubWith();
    const res = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', CODE);
    expect(res.status).toBe(201);
    const cancelled = await http<Task>(
      hub.url,
      hub.tokens.operator,
      'POST',
      `/api/v1/tasks/${res.body.id}/cancel`,
    );
    expect(cancelled.body.status).toBe('cancelled');
    const op = await monitorClient(hub.url, hub.tokens.operator);
    cleanup.push(() => op.close());
    const sub = await call<Task>(op, 'task:submit', CODE);
    if (!sub.ok) throw new Error(sub.error.message);
    expect(await call(op, 'task:cancel', { taskId: sub.data.id })).toMatchObject({
      ok: true,
      data: { status: 'cancelled' },
    });
    const q = await http<{ task_id: string }>(hub.url, hub.tokens.operator, 'POST', '/queue', CODE);
    expect(q.status).toBe(200);
  });

  it('the extension token may not use the people APIs', async () => {
    const hub = await hubWith();
    const read = await http<ErrorReply>(hub.url, hub.tokens.extension, 'GET', '/api/v1/tasks');
    expect(read.status).toBe(403);
    expect(read.body.error).toMatchObject({ code: 'forbidden', message: 'role "extension" may not read' });
    const submit = await http<ErrorReply>(hub.url, hub.tokens.extension, 'POST', '/execute', CODE);
    expect(submit.status).toBe(403);
  });

  it('an admin does everything: submit, watch, cancel, and run jobs as a host', async () => {
    const hub = await hubWith();
    const ext = await scriptedExtension(hub.url, hub.tokens.admin, { name: 'admin-host' });
    cleanup.push(() => ext.close());
    const admin = await monitorClient(hub.url, hub.tokens.admin);
    cleanup.push(() => admin.close());
    const sub = await call<Task>(admin, 'task:submit', CODE);
    if (!sub.ok) throw new Error(sub.error.message);
    const ended = eventsUntilEnd(admin, sub.data.id);
    expect((await call(admin, 'task:subscribe', { taskId: sub.data.id })).ok).toBe(true);
    const last = (await ended).at(-1);
    expect(last?.type === 'status' && last.data.status).toBe('succeeded');
    expect(ext.jobs.map((j) => j.taskId)).toEqual([sub.data.id]);
    const queued = await http<Task>(hub.url, hub.tokens.admin, 'POST', '/api/v1/tasks', {
      ...CODE,
      target: { label: 'none' },
    });
    expect(
      (await http<Task>(hub.url, hub.tokens.admin, 'POST', `/api/v1/tasks/${queued.body.id}/cancel`)).body
        .status,
    ).toBe('cancelled');
    expect((await http(hub.url, hub.tokens.admin, 'GET', '/api/v1/extensions')).status).toBe(200);
  });
});

describe('token storage', () => {
  it('writes generated tokens to <dataDir>/tokens.json with mode 0600 and reuses them on restart', async () => {
    const dataDir = tempDir();
    const first = await hubWith({ dataDir });
    const file = join(dataDir, 'tokens.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    expect(stored).toEqual(first.tokens);
    expect(new Set(Object.values(stored)).size).toBe(4);
    expect(first.hub.ctx.auth.generated).toBe(true);
    await first.stop();

    const second = await hubWith({ dataDir });
    expect(second.tokens).toEqual(first.tokens);
    expect(second.hub.ctx.auth.generated).toBe(false);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await http(second.url, first.tokens.viewer, 'GET', '/api/v1/tasks')).status).toBe(200);
  });

  it('configured tokens win over the file; the file still supplies the rest', async () => {
    const dataDir = tempDir();
    const first = await hubWith({ dataDir });
    await first.stop();
    const adminToken = 'configured-admin-token-0123456789';
    const second = await hubWith({ dataDir, adminToken });
    expect(second.tokens.admin).toBe(adminToken);
    expect(second.tokens.viewer).toBe(first.tokens.viewer);
    expect((await http(second.url, adminToken, 'GET', '/api/v1/tasks')).status).toBe(200);
    const old = await http<ErrorReply>(second.url, first.tokens.admin, 'GET', '/api/v1/tasks');
    expect(old.status).toBe(401);
    await refused(second.url, '/monitor', 'unauthorized', /not valid/, first.tokens.admin);
  });

  it('refuses to start with a token too short or shared by two roles', async () => {
    const dataDir = tempDir();
    await expect(buildHub({ port: 0, dataDir, logLevel: 'silent', adminToken: 'short' })).rejects.toThrow(
      /16 characters/,
    );
    const same = 'the-same-token-for-two-roles';
    await expect(
      buildHub({ port: 0, dataDir, logLevel: 'silent', adminToken: same, viewerToken: same }),
    ).rejects.toThrow(/own token/);
  });

  it('refuses to start on a corrupt tokens.json, naming the file', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'tokens.json'), '{not json');
    await expect(buildHub({ port: 0, dataDir, logLevel: 'silent' })).rejects.toThrow(/tokens\.json/);
  });
});

describe('IP allowlist', () => {
  it('refuses 127.0.0.1 when only 10.0.0.0/8 is allowed, before looking at the token', async () => {
    const hub = await hubWith({ ipAllowlist: ['10.0.0.0/8'] });
    for (const token of [hub.tokens.admin, null, 'bad-token']) {
      const res = await http<ErrorReply>(hub.url, token, 'GET', '/api/v1/tasks');
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      expect(res.body.error.message).toMatch(/127\.0\.0\.1.*not allowed/);
    }
    await refused(hub.url, '/monitor', 'forbidden', /127\.0\.0\.1.*not allowed/, hub.tokens.admin);
    await refused(hub.url, '/extension', 'forbidden', /127\.0\.0\.1.*not allowed/, hub.tokens.extension);
  });

  it('lets 127.0.0.1 in when it is listed', async () => {
    const hub = await hubWith({ ipAllowlist: ['127.0.0.1'] });
    expect((await http(hub.url, hub.tokens.viewer, 'GET', '/api/v1/tasks')).status).toBe(200);
    const res = await handshake(hub.url, '/monitor', { token: hub.tokens.viewer });
    expect(res.error).toBeNull();
    const ext = await handshake(hub.url, '/extension', { token: hub.tokens.extension });
    expect(ext.error).toBeNull();
  });
});

describe('rate limits', () => {
  it('answers the 6th HTTP request of a burst with 429 rate_limited, per client', async () => {
    const hub = await hubWith({ rateLimitPerMinute: 5 });
    for (let i = 0; i < 5; i++)
      expect((await http(hub.url, hub.tokens.viewer, 'GET', '/api/v1/tasks')).status).toBe(200);
    const sixth = await http<ErrorReply>(hub.url, hub.tokens.viewer, 'GET', '/api/v1/tasks');
    expect(sixth.status).toBe(429);
    expect(sixth.body.error.code).toBe('rate_limited');
    expect((await http(hub.url, hub.tokens.operator, 'GET', '/api/v1/tasks')).status).toBe(200);
    expect((await http(hub.url, null, 'GET', '/healthz')).status).toBe(200);
  });

  it('answers a socket request over the limit with an error ack and keeps the socket open', async () => {
    const hub = await hubWith({ rateLimitPerMinute: 5 });
    const viewer = await monitorClient(hub.url, hub.tokens.viewer);
    cleanup.push(() => viewer.close());
    let dropped: string | null = null;
    viewer.on('disconnect', (reason) => {
      dropped = reason;
    });
    for (let i = 0; i < 5; i++) expect((await call(viewer, 'task:list', {})).ok).toBe(true);
    const over = await call(viewer, 'task:list', {});
    expect(over).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect(!over.ok && over.error.message).toMatch(/^task:list: /);
    await new Promise((r) => setTimeout(r, 200));
    expect(dropped).toBeNull();
    expect(viewer.connected).toBe(true);
    const operator = await monitorClient(hub.url, hub.tokens.operator);
    cleanup.push(() => operator.close());
    expect((await call(operator, 'task:list', {})).ok).toBe(true);
  });

  it('counts requests that fail validation too, so bad requests cannot dodge the limit', async () => {
    const hub = await hubWith({ rateLimitPerMinute: 5 });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push((await http(hub.url, hub.tokens.operator, 'POST', '/execute', { bogus: i })).status);
    }
    expect(statuses.slice(0, 5)).toEqual([400, 400, 400, 400, 400]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
  });
});
