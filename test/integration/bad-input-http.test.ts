import { Agent, request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody, ErrorCode, Task, TaskEvent } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { gatedTask } from '../helpers/scripted-extension.js';

// One hub for the file: small limits so oversized bodies are cheap; rate limiting off (auth.test.ts has it).
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

let seq = 0;
/**
 * Another client's work in flight while a test sends bad requests: a task running on its own extension and
 * an SSE stream following it. `finish` lets the job complete and checks the stream got every event.
 */
async function bystander() {
  const { ext, taskId, release } = await gatedTask(hub, `bystander-${++seq}`);
  cleanup.push(() => ext.close());
  const abort = new AbortController();
  cleanup.push(() => abort.abort());
  const res = await fetch(`${hub.url}/api/v1/tasks/${taskId}/events`, {
    headers: { authorization: `Bearer ${hub.tokens.viewer}` },
    signal: abort.signal,
  });
  expect(res.status).toBe(200);
  const reader = res.body?.getReader();
  if (!reader) throw new Error('no SSE body');
  let text = '';
  const decoder = new TextDecoder();
  const ended = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read())
      text += decoder.decode(r.value, { stream: true });
    return text;
  })();
  await until(() => text.includes('before'), 5_000, 'the bystander task to run');
  return {
    task: { id: taskId },
    async finish() {
      release();
      const all = await Promise.race([
        ended,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`SSE did not end: ${text}`)), 5_000),
        ),
      ]);
      const events = all
        .split('\n\n')
        .flatMap((block) => block.split('\n').filter((l) => l.startsWith('data: ')))
        .map((l) => JSON.parse(l.slice(6)) as TaskEvent);
      expect(events.flatMap((e) => (e.type === 'output' ? [e.data.text] : []))).toEqual([
        'before\n',
        'after\n',
      ]);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const last = events.at(-1);
      expect(last?.type === 'status' && last.data.status).toBe('succeeded');
    },
  };
}

interface Reply {
  status: number;
  body: unknown;
  /** The request went over a kept-alive connection opened by an earlier one. */
  reused: boolean;
  /** The hub announced it closes the connection after this reply. */
  closing: boolean;
}

/** One request on a keep-alive agent, so a test can tell whether the hub kept the connection. */
function send(
  agent: Agent,
  method: string,
  path: string,
  body?: string,
  type = 'application/json',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${hub.tokens.operator}` };
    if (body !== undefined) headers['content-type'] = type;
    const req = request(`${hub.url}${path}`, { agent, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {}
        resolve({
          status: res.statusCode ?? 0,
          body: parsed,
          reused: req.reusedSocket,
          closing: res.headers.connection === 'close',
        });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

interface Ctx {
  running: string;
  finished: string;
}
interface Case {
  route: string;
  name: string;
  method: string;
  path: (ctx: Ctx) => string;
  /** A string goes as is (with `type`), anything else as JSON. */
  body?: unknown;
  type?: string;
  status: number;
  code: ErrorCode;
  /** A body field exactly as in the socket acks (`code`, `target.label`); query/params by pattern. */
  field?: string | RegExp;
  says?: RegExp;
  /**
   * Fastify closes the connection after a body it could not read (bad JSON, too large): the client may still
   * be sending. Every other error keeps the connection.
   */
  closes?: boolean;
}
type More = Partial<Pick<Case, 'field' | 'says' | 'closes' | 'type'>>;

function route(method: string, route: string, path: (ctx: Ctx) => string = () => route) {
  return (
    name: string,
    status: number,
    code: ErrorCode,
    more: More & { body?: unknown; query?: string } = {},
  ) => {
    const { query = '', ...rest } = more;
    return { route, name, method, path: (ctx: Ctx) => `${path(ctx)}${query}`, status, code, ...rest } as Case;
  };
}

const bodyless = { body: undefined };
const CODE = 'print(1)';
/** Bad bodies every JSON route refuses the same way. */
function bodyCases(at: ReturnType<typeof route>, valid: object): Case[] {
  return [
    at('invalid JSON', 400, 'bad_request', { body: '{"code": ', field: 'body', says: /JSON/, closes: true }),
    at('an empty JSON body', 400, 'bad_request', { body: '', field: 'body', says: /empty/, closes: true }),
    at('an XML content type', 400, 'bad_request', { body: '<a/>', type: 'application/xml', field: 'body' }),
    at('a text/plain body', 400, 'bad_request', { body: 'print(1)', type: 'text/plain', field: 'body' }),
    at('no body', 400, 'bad_request', { ...bodyless, field: 'body' }),
    at('a JSON array', 400, 'bad_request', { body: [valid], field: 'body' }),
    at('a JSON string', 400, 'bad_request', { body: '"print(1)"', field: 'body' }),
    at('code missing', 400, 'bad_request', { body: {}, field: 'code' }),
    at('code a number', 400, 'bad_request', { body: { ...valid, code: 42 }, field: 'code' }),
    at('code empty', 400, 'bad_request', { body: { ...valid, code: '' }, field: 'code', says: /empty/ }),
    at('an unknown extra field', 400, 'bad_request', { body: { ...valid, bogus: 1 }, says: /bogus/ }),
    at('code over the policy size', 413, 'payload_too_large', {
      body: { ...valid, code: '#'.repeat(5_000) },
      field: 'code',
      says: /4096/,
    }),
    at('a body over SWITCHBOARD_MAX_PAYLOAD_BYTES', 413, 'payload_too_large', {
      body: { ...valid, code: '#'.repeat(LIMITS.maxPayloadBytes) },
      field: 'body',
      says: /16384/,
      closes: true,
    }),
    at('code denied by policy', 422, 'policy_denied', {
      body: { ...valid, code: 'import subprocess' },
      field: 'code',
      says: /subprocess/,
    }),
  ];
}

const submit = route('POST', '/api/v1/tasks');
const list = route('GET', '/api/v1/tasks');
const get = (id: string) => route('GET', '/api/v1/tasks/:id', () => `/api/v1/tasks/${id}`);
const cancel = (id: (ctx: Ctx) => string) =>
  route('POST', '/api/v1/tasks/:id/cancel', (ctx) => `/api/v1/tasks/${id(ctx)}/cancel`);
const events = (id: (ctx: Ctx) => string) =>
  route('GET', '/api/v1/tasks/:id/events', (ctx) => `/api/v1/tasks/${id(ctx)}/events`);
const execute = route('POST', '/execute');
const queue = route('POST', '/queue');
const status = (id: string) => route('GET', '/status/:task_id', () => `/status/${id}`);
const running = (ctx: Ctx) => ctx.running;
const long = 'x'.repeat(129);
/** Within the contract's 128-character id limit, past Fastify's default 100-character param limit. */
const longButValid = 'x'.repeat(110);
const idField = /(^|\.)(id|taskId|task_id)$/;

const cases: Case[] = [
  ...bodyCases(submit, { code: CODE }),
  submit('target.label invalid', 400, 'bad_request', {
    body: { code: CODE, target: { label: 'no spaces!' } },
    field: 'target.label',
  }),
  submit('timeoutMs a string', 400, 'bad_request', {
    body: { code: CODE, timeoutMs: 'soon' },
    field: 'timeoutMs',
  }),
  submit('an unknown parentId', 404, 'not_found', {
    body: { code: CODE, parentId: 'nope' },
    field: 'parentId',
  }),
  list('status not a status', 400, 'bad_request', { query: '?status=bogus', field: /(^|\.)status$/ }),
  list('limit 0', 400, 'bad_request', { query: '?limit=0', field: /(^|\.)limit$/ }),
  list('limit not a number', 400, 'bad_request', { query: '?limit=many', field: /(^|\.)limit$/ }),
  list('a made-up cursor', 400, 'bad_request', { query: '?cursor=garbage', field: /(^|\.)cursor$/ }),
  list('an unknown query parameter', 400, 'bad_request', { query: '?bogus=1', says: /bogus/ }),
  get('nope')('an unknown id', 404, 'not_found', { says: /nope/ }),
  get(longButValid)('an unknown 110-character id', 404, 'not_found'),
  get(long)('an id over 128 characters', 400, 'bad_request', { field: idField }),
  cancel(() => 'nope')('an unknown id', 404, 'not_found', { says: /nope/ }),
  cancel((ctx) => ctx.finished)('a finished task', 409, 'task_finished', { says: /cancelled/ }),
  cancel(() => long)('an id over 128 characters', 400, 'bad_request', { field: idField }),
  cancel(running)('invalid JSON', 400, 'bad_request', { body: '{', field: 'body', closes: true }),
  events(() => 'nope')('an unknown id', 404, 'not_found', { says: /nope/ }),
  events(running)('afterSeq negative', 400, 'bad_request', {
    query: '?afterSeq=-1',
    field: /(^|\.)afterSeq$/,
  }),
  events(running)('afterSeq not a number', 400, 'bad_request', {
    query: '?afterSeq=x',
    field: /(^|\.)afterSeq$/,
  }),
  events(running)('an unknown query parameter', 400, 'bad_request', { query: '?bogus=1', says: /bogus/ }),
  route('POST', '/api/v1/extensions')('a method it does not serve', 404, 'not_found', {
    body: {},
    says: /no route/,
  }),
  route('GET', '/api/v1/extensions/:id', () => '/api/v1/extensions/x')('a path under it', 404, 'not_found'),
  ...bodyCases(execute, { code: CODE }),
  execute('timeout a string', 400, 'bad_request', {
    body: { code: CODE, timeout: 'soon' },
    field: 'timeout',
  }),
  execute('timeout negative', 400, 'bad_request', { body: { code: CODE, timeout: -1 }, field: 'timeout' }),
  execute('target a number', 400, 'bad_request', { body: { code: CODE, target: 5 }, field: 'target' }),
  execute('target label:NAME invalid', 400, 'bad_request', {
    body: { code: CODE, target: 'label:no spaces!' },
    field: 'target',
  }),
  ...bodyCases(queue, { code: CODE }),
  queue('timeout a string', 400, 'bad_request', { body: { code: CODE, timeout: 'soon' }, field: 'timeout' }),
  queue('target label:NAME invalid', 400, 'bad_request', {
    body: { code: CODE, target: 'label:no spaces!' },
    field: 'target',
  }),
  status('nope')('an unknown id', 404, 'not_found', { says: /nope/ }),
  status(longButValid)('an unknown 110-character id', 404, 'not_found'),
  status(long)('an id over 128 characters', 400, 'bad_request', { field: idField }),
];

async function finishedTask(): Promise<string> {
  const t = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
    code: 'never runs',
    target: { label: 'nobody-has-this' },
  });
  await http(hub.url, hub.tokens.operator, 'POST', `/api/v1/tasks/${t.body.id}/cancel`);
  return t.body.id;
}

describe('HTTP: bad requests get a clear error; the connection and other clients carry on', () => {
  it.each(cases)('$method $route with $name -> $status $code', async (c) => {
    const b = await bystander();
    const ctx = { running: b.task.id, finished: await finishedTask() };
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanup.push(() => agent.destroy());
    expect((await send(agent, 'GET', '/api/v1/extensions')).status).toBe(200);

    const raw = c.body === undefined || typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
    const res = await send(agent, c.method, c.path(ctx), raw as string | undefined, c.type);
    expect(res.status, JSON.stringify(res.body)).toBe(c.status);
    expect(res.body, JSON.stringify(res.body)).toMatchObject({
      error: { code: c.code, message: expect.any(String) },
    });
    const error = (res.body as { error: ErrorBody }).error;
    if (typeof c.field === 'string') {
      expect(error.field).toBe(c.field);
      if (c.code === 'bad_request') expect(error.message).toContain(c.field);
    } else if (c.field) expect(error.field).toMatch(c.field);
    if (c.says) expect(error.message).toMatch(c.says);
    if (!c.closes) expect(res.closing).toBe(false);

    // The same client goes on, over the same connection unless the hub had to close it.
    const next = await send(agent, 'GET', `/api/v1/tasks/${b.task.id}`);
    expect(next.status).toBe(200);
    expect((next.body as Task).id).toBe(b.task.id);
    if (!c.closes) expect(next.reused).toBe(true);
    await b.finish();
  });
});
