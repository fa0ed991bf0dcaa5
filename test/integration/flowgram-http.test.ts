import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowReport } from '../../server/protocol/flowgram.js';
import { http, until } from '../helpers/clients.js';
import { type MockHttp, startMockHttp } from '../helpers/flowgram.js';
import * as fg from '../helpers/flowgram-schemas.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub;
let mock: MockHttp;

beforeAll(async () => {
  mock = await startMockHttp();
  hub = await startTestHub({ store: 'memory' });
});
afterAll(async () => {
  await hub?.close();
  await mock?.close();
});

const ok = { status: 200, headers: { 'content-type': 'text/plain' }, body: 'fine' };
const constant = (content: unknown) => ({ type: 'constant', content });
const decl = (keys: string[]) => ({
  type: 'object',
  properties: Object.fromEntries(keys.map((k) => [k, { type: 'string' }])),
});

/** An http node with the given data overrides, run after a start node carrying `{name}`. */
async function run(data: Record<string, unknown>): Promise<FlowReport> {
  const node = fg.http('http_0', `http://${mock.host}/x`);
  Object.assign(node['data'] as object, data);
  const schema = fg.single(node, 'body', 'string', { name: { type: 'string' } });
  const res = await http<{ taskID: string }>(hub.url, hub.tokens.operator, 'POST', '/api/task/run', {
    schema: JSON.stringify(schema),
    inputs: { name: 'Ada Lovelace' },
  });
  return until(async () => {
    const r = await http<FlowReport>(
      hub.url,
      hub.tokens.operator,
      'GET',
      `/api/task/report?taskID=${res.body.taskID}`,
    );
    return r.body.workflowStatus.terminated ? r.body : null;
  }, 20_000);
}

describe('FlowGram http node', () => {
  it('sends a templated url, query params, headers and a JSON body', async () => {
    mock.serve([ok]);
    const r = await run({
      api: {
        method: 'POST',
        url: { type: 'template', content: `http://${mock.host}/users/{{start_0.name}}` },
      },
      headersValues: { 'X-Trace': constant('t-1') },
      headers: decl(['X-Trace']),
      paramsValues: { q: { type: 'ref', content: ['start_0', 'name'] }, empty: constant('') },
      params: decl(['q', 'empty']),
      body: { bodyType: 'JSON', json: { type: 'template', content: '{"who":"{{start_0.name}}"}' } },
    });
    expect(r.outputs).toEqual({ out: 'fine' });
    expect(mock.calls).toHaveLength(1);
    const call = mock.calls[0];
    expect(call?.url).toBe(`http://${mock.host}/users/Ada%20Lovelace?q=Ada+Lovelace`);
    expect(call?.headers['x-trace']).toBe('t-1');
    expect(call?.headers['content-type']).toBe('application/json');
    expect(call?.body).toBe('{"who":"Ada Lovelace"}');
    expect(r.reports['http_0']?.snapshots[0]?.inputs).toMatchObject({
      method: 'POST',
      url: `http://${mock.host}/users/Ada Lovelace`,
      params: { q: 'Ada Lovelace', empty: '' },
      bodyType: 'JSON',
    });
    expect(r.reports['http_0']?.snapshots[0]?.outputs).toEqual({
      headers: { 'content-type': 'text/plain' },
      statusCode: 200,
      body: 'fine',
    });
  });

  it('sends form bodies (url-encoded, multipart) and raw text', async () => {
    mock.serve([ok, ok, ok]);
    await run({
      api: { method: 'POST', url: { type: 'template', content: `http://${mock.host}/form` } },
      body: {
        bodyType: 'x-www-form-urlencoded',
        xWwwFormUrlencoded: decl(['a', 'b']),
        xWwwFormUrlencodedValues: { a: constant('1 2'), b: { type: 'ref', content: ['start_0', 'name'] } },
      },
    });
    await run({
      api: { method: 'PUT', url: { type: 'template', content: `http://${mock.host}/multi` } },
      body: { bodyType: 'form-data', formData: decl(['f']), formDataValues: { f: constant('v') } },
    });
    await run({
      api: { method: 'POST', url: { type: 'template', content: `http://${mock.host}/raw` } },
      body: { bodyType: 'raw-text', json: { type: 'template', content: 'hello {{start_0.name}}' } },
    });
    const [form, multi, raw] = mock.calls;
    expect(form?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(form?.body).toBe('a=1+2&b=Ada+Lovelace');
    expect(multi?.method).toBe('PUT');
    expect(multi?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(multi?.body).toContain('name="f"');
    expect(raw?.headers['content-type']).toBe('text/plain');
    expect(raw?.body).toBe('hello Ada Lovelace');
  });

  it('retries a failed request and succeeds on the next attempt', async () => {
    mock.serve([{ reject: 'down' }, ok]);
    const r = await run({ timeout: { timeout: 10_000, retryTimes: 2 } });
    expect(mock.calls).toHaveLength(2);
    expect(r.workflowStatus.status).toBe('succeeded');
    expect(r.outputs).toEqual({ out: 'fine' });
  });

  it('sends a binary body as given, with its content type', async () => {
    mock.serve([ok]);
    const r = await run({
      api: { method: 'POST', url: { type: 'template', content: `http://${mock.host}/upload` } },
      body: { bodyType: 'binary', binary: { type: 'template', content: 'bytes-of-{{start_0.name}}' } },
    });
    expect(r.workflowStatus.status).toBe('succeeded');
    expect(mock.calls).toHaveLength(1);
    expect(mock.calls[0]?.headers['content-type']).toBe('application/octet-stream');
    expect(mock.calls[0]?.body).toBe('bytes-of-Ada Lovelace');
    expect(r.reports['http_0']?.snapshots[0]?.inputs).toMatchObject({
      bodyType: 'binary',
      body: 'bytes-of-Ada Lovelace',
    });
    // A caller's own content type wins over the body type's.
    mock.serve([ok]);
    await run({
      api: { method: 'PUT', url: { type: 'template', content: `http://${mock.host}/upload` } },
      headersValues: { 'Content-Type': constant('image/png') },
      headers: decl(['Content-Type']),
      body: { bodyType: 'binary', binary: { type: 'template', content: 'png' } },
    });
    expect(mock.calls[0]?.headers['content-type']).toBe('image/png');
    const missing = await run({
      api: { method: 'POST', url: { type: 'template', content: `http://${mock.host}/upload` } },
      body: { bodyType: 'binary' },
    });
    expect(missing.workflowStatus.status).toBe('failed');
    expect(missing.reports['http_0']?.snapshots[0]?.error).toBe('HTTP binary body is required');
  });

  it('sends no body for body type none, and none on a GET whatever the body type', async () => {
    mock.serve([ok, ok]);
    const none = await run({
      api: { method: 'POST', url: { type: 'template', content: `http://${mock.host}/none` } },
      body: { bodyType: 'none' },
    });
    const get = await run({
      api: { method: 'GET', url: { type: 'template', content: `http://${mock.host}/get` } },
      body: { bodyType: 'JSON', json: { type: 'template', content: '{"ignored":true}' } },
    });
    expect([none.workflowStatus.status, get.workflowStatus.status]).toEqual(['succeeded', 'succeeded']);
    const [post, plain] = mock.calls;
    expect(post?.method).toBe('POST');
    expect(post?.body).toBe('');
    expect(post?.headers['content-type']).toBeUndefined();
    expect(post?.headers['transfer-encoding']).toBeUndefined();
    expect(none.reports['http_0']?.snapshots[0]?.inputs).toMatchObject({ bodyType: 'none', body: '' });
    expect(plain?.method).toBe('GET');
    expect(plain?.body).toBe('');
  });

  it('backs off 1 s then 2 s between retries, and names the failure once they run out', async () => {
    mock.serve([{ reject: 'down' }, { reject: 'down' }, ok]);
    const r = await run({ timeout: { timeout: 10_000, retryTimes: 2 } });
    expect(r.workflowStatus.status).toBe('succeeded');
    expect(r.outputs).toEqual({ out: 'fine' });
    const at = mock.calls.map((c) => c.at);
    expect(at).toHaveLength(3);
    // Lower bounds only: a loaded machine makes the gaps longer, never shorter.
    expect((at[1] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(950);
    expect((at[2] ?? 0) - (at[1] ?? 0)).toBeGreaterThanOrEqual(1_950);

    mock.serve([{ reject: 'down' }, { reject: 'down' }]);
    const failed = await run({ timeout: { timeout: 10_000, retryTimes: 1 } });
    expect(mock.calls).toHaveLength(2);
    expect(failed.workflowStatus.status).toBe('failed');
    expect(failed.reports['http_0']?.snapshots[0]?.error).toMatch(
      new RegExp(`^HTTP request to http://${mock.host}/x failed: \\S`),
    );
    expect(failed.messages['error']?.[0]?.nodeID).toBe('http_0');
  });

  it('fails the node with a clear error when an attempt times out', async () => {
    mock.hang();
    const r = await run({ timeout: { timeout: 1000, retryTimes: 0 } });
    expect(r.workflowStatus.status).toBe('failed');
    expect(r.reports['http_0']?.snapshots[0]?.error).toBe(
      `HTTP request to http://${mock.host}/x failed: the request timed out`,
    );
    expect(r.messages['error']?.[0]?.nodeID).toBe('http_0');
  });

  it('sends credential headers but keeps them out of events, the report and the stored input', async () => {
    mock.serve([ok]);
    const r = await run({
      headersValues: { Authorization: { type: 'template', content: 'Bearer {{start_0.name}}' } },
      headers: decl(['Authorization']),
    });
    expect(mock.calls[0]?.headers.authorization).toBe('Bearer Ada Lovelace');
    expect(r.reports['http_0']?.snapshots[0]?.inputs['headers']).toEqual({
      Authorization: 'Bearer [redacted]',
    });
    expect(r.inputs).toEqual({ name: '[redacted]' });
    const stored = JSON.stringify([
      await hub.hub.ctx.tasks.replay(r.id, 0),
      await hub.hub.ctx.tasks.require(r.id),
    ]);
    expect(stored).not.toContain('Ada Lovelace');
  });

  it('fails on a body type FlowGram does not know, naming it', async () => {
    const r = await run({ body: { bodyType: 'yaml' } });
    expect(r.reports['http_0']?.snapshots[0]?.error).toBe('HTTP invalid body type "yaml"');
  });
});
