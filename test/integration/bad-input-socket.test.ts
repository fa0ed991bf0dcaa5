import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Ack, ErrorBody, ErrorCode, Task, TaskEvent } from '../../server/protocol/index.js';
import { call, eventsUntilEnd, http, monitorClient, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { gatedTask, type ScriptedExtension, scriptedExtension } from '../helpers/scripted-extension.js';

// One hub for the file: small limits so oversized payloads are cheap to build; rate limiting off so the
// number of cases cannot trip it (auth.test.ts covers limits).
const LIMITS = { maxPayloadBytes: 16_384, policyMaxCodeBytes: 4_096, rateLimitPerMinute: 0 };
let hub: TestHub;
const cleanup: Array<() => void> = [];
beforeAll(async () => {
  hub = await startTestHub(LIMITS);
});
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});
afterAll(async () => {
  await hub?.close();
});

/** Any socket, untyped: these tests send what the contract's types forbid. */
const loose = (s: { emit: unknown }) => s as unknown as Socket;

let seq = 0;
const outputs = (events: TaskEvent[]) => events.flatMap((e) => (e.type === 'output' ? [e.data.text] : []));
/**
 * Another client's work in flight while a test misbehaves: a task running on its own extension and a viewer
 * watching it. `finish` lets the job complete and checks the watcher saw every event, undisturbed.
 */
async function bystander() {
  const { ext, taskId, release } = await gatedTask(hub, `bystander-${++seq}`);
  const watcher = await monitorClient(hub.url, hub.tokens.viewer);
  cleanup.push(() => ext.close());
  cleanup.push(() => watcher.close());
  let dropped: string | null = null;
  watcher.on('disconnect', (reason) => {
    dropped = reason;
  });
  const seen: TaskEvent[] = [];
  watcher.on('task:event', (e) => seen.push(e));
  const ended = eventsUntilEnd(watcher, taskId);
  expect((await call(watcher, 'task:subscribe', { taskId })).ok).toBe(true);
  await until(() => seen.some((e) => e.type === 'output'), 5_000, 'the bystander task to run');
  return {
    task: { id: taskId },
    ext,
    async finish() {
      release();
      const events = await ended;
      expect(dropped).toBeNull();
      expect(outputs(events)).toEqual(['before\n', 'after\n']);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const last = events.at(-1);
      expect(last?.type === 'status' && last.data.status).toBe('succeeded');
    },
  };
}

interface Ctx {
  /** The bystander's running task. */
  running: string;
  finished: string;
}
type Payload = unknown | ((ctx: Ctx) => unknown);
/** One bad message: what it is, its payload, the error code, the `field` named, what else the message says. */
type Row = [name: string, payload: Payload, code: ErrorCode, field?: string, says?: RegExp];
interface Case {
  event: string;
  name: string;
  payload: Payload;
  code: ErrorCode;
  field?: string | undefined;
  says?: RegExp | undefined;
}
const cases = (event: string, rows: Row[]): Case[] =>
  rows.map(([name, payload, code, field, says]) => ({ event, name, payload, code, field, says }));
const payloadOf = (c: Case, ctx: Ctx): unknown =>
  typeof c.payload === 'function' ? (c.payload as (ctx: Ctx) => unknown)(ctx) : c.payload;

function expectError(res: Ack<unknown> | ErrorBody, c: Pick<Case, 'event' | 'code' | 'field' | 'says'>) {
  const error = 'ok' in res ? (res.ok ? null : res.error) : res;
  expect(error, `${c.event} should fail with ${c.code}`).not.toBeNull();
  if (!error) return;
  expect(error.code).toBe(c.code);
  expect(error.message.startsWith(`${c.event}: `)).toBe(true);
  if (c.field !== undefined) {
    expect(error.field).toBe(c.field);
    // Validation errors name the field in the message too; others (not_found, policy) explain themselves.
    if (c.code === 'bad_request') expect(error.message).toContain(c.field);
  }
  if (c.says) expect(error.message).toMatch(c.says);
}

async function finishedTask(): Promise<string> {
  const t = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
    code: 'never runs',
    target: { label: 'nobody-has-this' },
  });
  await http(hub.url, hub.tokens.operator, 'POST', `/api/v1/tasks/${t.body.id}/cancel`);
  return t.body.id;
}

const NOT_OBJECT: Row[] = [
  ['a string', 'hello', 'bad_request', '(root)', /expected object/],
  ['an array', [1, 2], 'bad_request', '(root)', /expected object/],
  ['a number', 42, 'bad_request', '(root)', /expected object/],
];
const extra = (valid: (ctx: Ctx) => object): Row => [
  'an unknown extra field',
  (ctx: Ctx) => ({ ...valid(ctx), bogus: 1 }),
  'bad_request',
  undefined,
  /bogus/,
];
const TASK_REF: Row[] = [
  ...NOT_OBJECT,
  ['taskId missing', {}, 'bad_request', 'taskId'],
  ['taskId a number', { taskId: 7 }, 'bad_request', 'taskId'],
  ['taskId empty', { taskId: '' }, 'bad_request', 'taskId'],
  ['taskId over 128 chars', { taskId: 'x'.repeat(129) }, 'bad_request', 'taskId'],
  extra((ctx) => ({ taskId: ctx.running })),
];
const UNKNOWN_TASK: Row = ['an unknown task id', { taskId: 'nope' }, 'not_found', 'taskId', /nope/];
const running = (more: object) => (ctx: Ctx) => ({ taskId: ctx.running, ...more });

const monitorCases: Case[] = [
  ...cases('task:submit', [
    ...NOT_OBJECT,
    ['code missing', {}, 'bad_request', 'code'],
    ['code a number', { code: 42 }, 'bad_request', 'code'],
    ['code empty', { code: '' }, 'bad_request', 'code', /empty/],
    ['kind not code', { kind: 'bash', code: 'x' }, 'bad_request', 'kind'],
    ['target a string', { code: 'x', target: 'gpu' }, 'bad_request', 'target'],
    ['target.label invalid', { code: 'x', target: { label: 'no spaces!' } }, 'bad_request', 'target.label'],
    [
      'target.extensionId a number',
      { code: 'x', target: { extensionId: 1 } },
      'bad_request',
      'target.extensionId',
    ],
    ['timeoutMs negative', { code: 'x', timeoutMs: -1 }, 'bad_request', 'timeoutMs'],
    ['timeoutMs fractional', { code: 'x', timeoutMs: 1.5 }, 'bad_request', 'timeoutMs'],
    ['timeoutMs over the max', { code: 'x', timeoutMs: 3_600_001 }, 'bad_request', 'timeoutMs'],
    ['retries over 10', { code: 'x', retries: 11 }, 'bad_request', 'retries'],
    extra(() => ({ code: 'x' })),
    ['an unknown parentId', { code: 'x', parentId: 'nope' }, 'not_found', 'parentId'],
    ['code over the policy size', { code: '#'.repeat(5_000) }, 'payload_too_large', 'code', /4096/],
    ['code denied by policy', { code: 'import subprocess' }, 'policy_denied', 'code', /subprocess/],
  ]),
  ...cases('task:get', [...TASK_REF, UNKNOWN_TASK]),
  ...cases('task:list', [
    ...NOT_OBJECT,
    ['status not a status', { status: 'bogus' }, 'bad_request', 'status'],
    ['kind not a kind', { kind: 'bash' }, 'bad_request', 'kind'],
    ['limit 0', { limit: 0 }, 'bad_request', 'limit'],
    ['limit not a number', { limit: 'many' }, 'bad_request', 'limit'],
    ['cursor a number', { cursor: 5 }, 'bad_request', 'cursor'],
    ['cursor made up', { cursor: 'garbage' }, 'bad_request', 'cursor'],
    extra(() => ({})),
  ]),
  ...cases('task:cancel', [
    ...TASK_REF,
    UNKNOWN_TASK,
    ['a finished task', (ctx: Ctx) => ({ taskId: ctx.finished }), 'task_finished', undefined, /cancelled/],
  ]),
  ...cases('task:subscribe', [
    ...TASK_REF,
    UNKNOWN_TASK,
    ['afterSeq negative', running({ afterSeq: -1 }), 'bad_request', 'afterSeq'],
    ['afterSeq a string', running({ afterSeq: 'x' }), 'bad_request', 'afterSeq'],
  ]),
  ...cases('task:unsubscribe', TASK_REF),
  ...['feed:subscribe', 'feed:unsubscribe', 'extensions:list'].flatMap((event) =>
    cases(event, [...NOT_OBJECT, extra(() => ({}))]),
  ),
];

describe('/monitor: bad input gets an error ack; the socket and other clients carry on', () => {
  it.each(monitorCases)('$event with $name -> $code', async (c) => {
    const b = await bystander();
    const ctx = { running: b.task.id, finished: await finishedTask() };
    const sock = await monitorClient(hub.url, hub.tokens.operator);
    cleanup.push(() => sock.close());
    expectError(await call(sock, c.event, payloadOf(c, ctx)), c);
    expect(sock.connected).toBe(true);
    const again = await call<Task>(sock, 'task:get', { taskId: b.task.id });
    expect(again.ok && again.data.id).toBe(b.task.id);
    await b.finish();
  });

  it.each(monitorCases)('$event with $name and no ack callback -> hub:error', async (c) => {
    const b = await bystander();
    const ctx = { running: b.task.id, finished: await finishedTask() };
    const sock = await monitorClient(hub.url, hub.tokens.operator);
    cleanup.push(() => sock.close());
    const errors: ErrorBody[] = [];
    sock.on('hub:error', (e) => errors.push(e));
    loose(sock).emit(c.event, payloadOf(c, ctx));
    await until(() => errors.length > 0, 2_000, 'hub:error');
    expect(errors).toHaveLength(1);
    expectError(errors[0]!, c);
    expect((await call(sock, 'extensions:list', {})).ok).toBe(true);
    await b.finish();
  });

  it('treats an omitted payload as empty and says nothing to a valid event sent without an ack', async () => {
    const sock = await monitorClient(hub.url, hub.tokens.operator);
    cleanup.push(() => sock.close());
    const errors: ErrorBody[] = [];
    sock.on('hub:error', (e) => errors.push(e));
    expect((await call(sock, 'extensions:list')).ok).toBe(true);
    expect((await call(sock, 'task:list')).ok).toBe(true);
    loose(sock).emit('feed:subscribe', {});
    loose(sock).emit('task:get');
    await until(() => errors.length > 0, 2_000, 'hub:error');
    await new Promise((r) => setTimeout(r, 100));
    // Only the payload-less task:get fails: it names the missing taskId.
    expect(errors.map((e) => [e.code, e.field])).toEqual([['bad_request', 'taskId']]);
  });

  it('answers an unknown event with an error ack and keeps the socket', async () => {
    const sock = await monitorClient(hub.url, hub.tokens.operator);
    cleanup.push(() => sock.close());
    const res = await loose(sock)
      .timeout(2_000)
      .emitWithAck('task:destroy', { taskId: 'x' })
      .catch((err: Error) => ({ ok: 'no answer', why: err.message }));
    expect(res).toMatchObject({ ok: false, error: { message: expect.stringContaining('task:destroy') } });
    expect(['bad_request', 'not_found']).toContain((res as { error?: ErrorBody }).error?.code);
    expect((await call(sock, 'extensions:list', {})).ok).toBe(true);
  });
});

/** A raw `/extension` socket that has not registered. */
async function hostSocket(): Promise<Socket> {
  const s = io(`${hub.url}/extension`, {
    auth: { token: hub.tokens.extension },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  cleanup.push(() => s.close());
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });
  return s;
}

const output = (taskId: string) => ({ taskId, stream: 'stdout', text: 'hi\n' });
const result = (taskId: string) => ({ taskId, status: 'failed', error: { message: 'not mine' } });
/** Reports about jobs: malformed, about unknown tasks, and about a task another extension runs. */
const reports = (valid: (taskId: string) => object): Row[] => [
  ...NOT_OBJECT,
  ['taskId missing', { ...valid('x'), taskId: undefined }, 'bad_request', 'taskId'],
  ['taskId a number', { ...valid('x'), taskId: 5 }, 'bad_request', 'taskId'],
  extra((ctx) => valid(ctx.running)),
  ['an unknown task', valid('nope'), 'not_found', 'taskId', /nope/],
  ["another extension's task", (ctx: Ctx) => valid(ctx.running), 'forbidden', 'taskId', /not assigned/],
];
const hostCases: Case[] = [
  ...cases('heartbeat', [
    ...NOT_OBJECT,
    ['running not an array', { running: 'x' }, 'bad_request', 'running'],
    extra(() => ({})),
  ]),
  ...cases(
    'job:started',
    reports((taskId) => ({ taskId })),
  ),
  ...cases('job:output', [
    ...reports(output),
    [
      'stream not a stream',
      (ctx: Ctx) => ({ ...output(ctx.running), stream: 'stdlog' }),
      'bad_request',
      'stream',
    ],
    ['text a number', (ctx: Ctx) => ({ ...output(ctx.running), text: 5 }), 'bad_request', 'text'],
  ]),
  ...cases('job:result', [
    ...reports(result),
    [
      'status not a status',
      (ctx: Ctx) => ({ ...result(ctx.running), status: 'ok' }),
      'bad_request',
      'status',
    ],
    [
      'error.message a number',
      (ctx: Ctx) => ({ ...result(ctx.running), error: { message: 5 } }),
      'bad_request',
      'error.message',
    ],
  ]),
];
const registerCases: Case[] = cases('register', [
  ...NOT_OBJECT,
  ['name missing', {}, 'bad_request', 'name'],
  ['name a number', { name: 5 }, 'bad_request', 'name'],
  ['labels a string', { name: 'k', labels: 'gpu' }, 'bad_request', 'labels'],
  ['a label invalid', { name: 'k', labels: ['ok', 'no spaces!'] }, 'bad_request', 'labels.1'],
  ['concurrency 0', { name: 'k', concurrency: 0 }, 'bad_request', 'concurrency'],
  [
    'capabilities.hostApp a number',
    { name: 'k', capabilities: { hostApp: 5 } },
    'bad_request',
    'capabilities.hostApp',
  ],
  extra(() => ({ name: 'k' })),
]);

describe('/extension: bad input gets an error ack; the host and other work carry on', () => {
  it.each(registerCases)('register with $name -> $code, then a valid register works', async (c) => {
    const b = await bystander();
    const s = await hostSocket();
    expectError(await call(s, c.event, payloadOf(c, { running: b.task.id, finished: '' })), c);
    expect(s.connected).toBe(true);
    const ok = await call<{ extensionId: string }>(s, 'register', { name: `retry-${++seq}` });
    expect(ok.ok).toBe(true);
    await b.finish();
  });

  const beforeRegister: Record<string, (taskId: string) => object> = {
    heartbeat: () => ({}),
    'job:started': (taskId) => ({ taskId }),
    'job:output': output,
    'job:result': result,
  };
  it.each(Object.keys(beforeRegister))('%s before register -> conflict', async (event) => {
    const b = await bystander();
    const s = await hostSocket();
    const res = await call(s, event, beforeRegister[event]!(b.task.id));
    expectError(res, { event, code: 'conflict', says: /register first/ });
    expect((await call(s, 'register', { name: `late-${++seq}` })).ok).toBe(true);
    expect((await call(s, 'heartbeat', {})).ok).toBe(true);
    await b.finish();
  });

  it('register twice on one connection -> conflict naming the id; the first registration stands', async () => {
    const s = await hostSocket();
    const first = await call<{ extensionId: string }>(s, 'register', { name: 'twice' });
    if (!first.ok) throw new Error(first.error.message);
    expectError(await call(s, 'register', { name: 'twice-again' }), { event: 'register', code: 'conflict' });
    const again = await call(s, 'register', { name: 'twice-again' });
    expect(!again.ok && again.error.message).toContain(first.data.extensionId);
    expect((await call(s, 'heartbeat', {})).ok).toBe(true);
  });

  it.each(hostCases)('$event with $name -> $code', async (c) => {
    const b = await bystander();
    const other: ScriptedExtension = await scriptedExtension(hub.url, hub.tokens.extension, {
      name: `other-${++seq}`,
    });
    cleanup.push(() => other.close());
    const errors: ErrorBody[] = [];
    other.socket.on('hub:error', (e) => errors.push(e));
    const payload = payloadOf(c, { running: b.task.id, finished: '' });
    expectError(await call(other.socket, c.event, payload), c);
    // The same report without an ack callback comes back as hub:error.
    loose(other.socket).emit(c.event, payload);
    await until(() => errors.length > 0, 2_000, 'hub:error');
    expectError(errors[0]!, c);
    expect(other.socket.connected).toBe(true);
    expect((await call(other.socket, 'heartbeat', {})).ok).toBe(true);
    // The bystander's task ends as its own extension says, untouched by the other host's reports.
    await b.finish();
    const done = await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${b.task.id}`);
    expect(done.body).toMatchObject({
      status: 'succeeded',
      result: 'bystander ok',
      extensionId: b.ext.extensionId,
    });
  });

  it('refuses a report over SWITCHBOARD_MAX_PAYLOAD_BYTES with payload_too_large and keeps the host', async () => {
    const b = await bystander();
    let oversized: Ack<unknown> | null = null;
    const host = await scriptedExtension(
      hub.url,
      hub.tokens.extension,
      { name: `big-${++seq}` },
      async (api) => {
        await api.started();
        oversized = await call(host.socket, 'job:output', {
          taskId: api.job.taskId,
          stream: 'stdout',
          text: 'x'.repeat(LIMITS.maxPayloadBytes + 1_000),
        });
        await api.output('small\n');
        await api.result({ status: 'succeeded', result: 1 });
      },
    );
    cleanup.push(() => host.close());
    const watcher = await monitorClient(hub.url, hub.tokens.viewer);
    cleanup.push(() => watcher.close());
    const t = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
      code: 'big output',
      target: { extensionId: host.extensionId },
    });
    const ended = eventsUntilEnd(watcher, t.body.id);
    await call(watcher, 'task:subscribe', { taskId: t.body.id });
    const events = await ended;
    expect(oversized).not.toBeNull();
    expectError(oversized!, { event: 'job:output', code: 'payload_too_large' });
    expect(host.socket.connected).toBe(true);
    expect(outputs(events)).toEqual(['small\n']);
    await b.finish();
  });
});
