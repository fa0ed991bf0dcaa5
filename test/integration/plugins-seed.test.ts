import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskEvent } from '../../server/protocol/index.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { decodePng } from '../helpers/png.js';
import { openSse } from '../helpers/sse-client.js';

/** The plugin service's client flow against the built-in demo plugin, field by field as the seed names them. */

let h: TestHub;
const json = (token?: string) => ({
  'content-type': 'application/json',
  ...(token ? { authorization: `Bearer ${token}` } : {}),
});

async function get(path: string, token = h.tokens.viewer) {
  const res = await fetch(`${h.url}${path}`, { headers: json(token) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & unknown[] };
}

async function pollUntilEnded(taskId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 600; i++) {
    const { body } = await get(`/api/v1/tasks/${taskId}`);
    if (['succeeded', 'failed', 'cancelled', 'timed_out'].includes(body['status'] as string)) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`task ${taskId} did not end`);
}

const RESULT_KEYS = [
  '_type',
  'error_message',
  'execution_time',
  'metadata',
  'output_files',
  'output_resources',
  'status',
  'task_id',
];
const PROGRESS_KEYS = ['_type', 'data', 'message', 'percent', 'task_id', 'timestamp', 'type'];

beforeAll(async () => {
  h = await startTestHub({ pluginHeartbeatS: 0.2 });
});
afterAll(async () => {
  await h?.close();
});

describe('plugin service API (seed shapes)', () => {
  it('health needs no token and counts plugins', async () => {
    const res = await fetch(`${h.url}/api/v1/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body['status']).toBe('healthy');
    expect(body['plugins']).toBeGreaterThanOrEqual(1);
    expect(body['manifest_errors']).toBe(0);
  });

  it('is in the OpenAPI document, generated from the schemas', async () => {
    const doc = (await (await fetch(`${h.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const path of [
      '/api/v1/health',
      '/api/v1/tools',
      '/api/v1/plugins',
      '/api/v1/plugins/by-tool/{tool}',
      '/api/v1/tasks/execute',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    const execute = doc.paths['/api/v1/tasks/execute']?.['post'] as {
      requestBody: { content: Record<string, { schema: { properties: object } }> };
    };
    expect(Object.keys(execute.requestBody.content['application/json']?.schema.properties ?? {})).toEqual(
      expect.arrayContaining(['tool_name', 'plugin_name', 'parameters', 'resources', 'timeout']),
    );
  });

  it('lists tools, plugins, and plugins by tool', async () => {
    const tools = (await get('/api/v1/tools')).body as unknown as Array<Record<string, unknown>>;
    const t2i = tools.find((t) => t['name'] === 'text2image');
    expect(t2i).toMatchObject({
      name: 'text2image',
      display_name: 'Text to Image',
      plugins: ['text2image_demo'],
    });
    // Every seed tool type is listed, served or not.
    expect(tools.map((t) => t['name'])).toEqual(
      expect.arrayContaining([
        'image2image',
        'image2video',
        'text2video',
        'speak2video',
        'text2speak',
        'text2music',
      ]),
    );

    const plugins = (await get('/api/v1/plugins')).body as unknown as Array<Record<string, unknown>>;
    const demo = plugins.find((p) => p['name'] === 'text2image_demo');
    expect(demo).toMatchObject({
      name: 'text2image_demo',
      version: '1.0.0',
      tool_type: 'text2image',
      engine: 'demo',
      author: 'Switchboard',
      builtin: true,
      transport: 'stdio',
    });
    expect(typeof demo?.['description']).toBe('string');

    const byTool = (await get('/api/v1/plugins/by-tool/text2image')).body as unknown as Array<
      Record<string, unknown>
    >;
    expect(byTool.map((p) => p['name'])).toEqual(['text2image_demo']);
    expect((await get('/api/v1/plugins/by-tool/text2music')).body).toEqual([]);
  });

  it('create, then poll status until the PNG is there (seed fields beside the native task)', async () => {
    const res = await fetch(`${h.url}/api/v1/tasks`, {
      method: 'POST',
      headers: json(h.tokens.operator),
      body: JSON.stringify({
        tool_name: 'text2image',
        plugin_name: 'text2image_demo',
        parameters: { prompt: 'polled', width: 64, height: 48, steps: 4, step_delay_ms: 10 },
        resources: [],
        timeout: 60,
      }),
    });
    expect(res.status).toBe(200);
    const created = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(created).sort()).toEqual(['message', 'status', 'task_id']);
    expect(created['status']).toBe('created');
    const taskId = created['task_id'] as string;

    const done = await pollUntilEnded(taskId);
    expect(done).toMatchObject({
      task_id: taskId,
      id: taskId,
      kind: 'plugin',
      status: 'succeeded',
      tool_name: 'text2image',
      plugin_name: 'text2image_demo',
      percent: 100,
    });
    const result = done['result'] as Record<string, unknown>;
    expect(result['status']).toBe('success');
    expect(result['task_id']).toBe(taskId);
    const [out] = result['output_resources'] as Array<Record<string, unknown>>;
    expect(out).toMatchObject({ type: 'image', mime_type: 'image/png' });
    expect(result['output_files']).toEqual([out?.['path']]);
  });

  it('execute streams started, 20 progress steps, heartbeats, completed, then the result; the PNG decodes', async () => {
    const stream = await openSse(`${h.url}/api/v1/tasks/execute`, {
      method: 'POST',
      token: h.tokens.operator,
      body: JSON.stringify({
        tool_name: 'text2image',
        plugin_name: 'text2image_demo',
        parameters: {
          prompt: 'HELLO',
          width: 200,
          height: 120,
          start_color: '#ff0000',
          end_color: '#0000ff',
          text_color: '#ffffff',
          step_delay_ms: 60,
        },
      }),
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const taskId = stream.headers.get('x-task-id') as string;
    await stream.ended;
    // Plain `data:` messages (no event names), so EventSource.onmessage clients see every one.
    expect(stream.events.every((e) => e.event === 'message')).toBe(true);
    const data = stream.events.map((e) => e.data as Record<string, unknown>);
    const progress = data.filter((d) => d['_type'] === 'progress');
    for (const p of progress) {
      expect(Object.keys(p).sort()).toEqual(PROGRESS_KEYS);
      expect(p['task_id']).toBe(taskId);
      expect(Number.isNaN(Date.parse(p['timestamp'] as string))).toBe(false);
    }
    const types = progress.map((p) => p['type']);
    expect(types[0]).toBe('started');
    expect(types.at(-1)).toBe('completed');
    expect(types).toContain('heartbeat');
    const steps = progress.filter((p) => p['type'] === 'progress');
    expect(steps).toHaveLength(20);
    expect(steps.map((p) => p['percent'])).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 5));
    expect(steps[0]?.['message']).toBe('gradient band 1/20');

    const result = data.at(-1) as Record<string, unknown>;
    expect(Object.keys(result).sort()).toEqual(RESULT_KEYS);
    expect(result).toMatchObject({ _type: 'result', task_id: taskId, status: 'success', error_message: '' });
    expect(result['execution_time']).toBeGreaterThan(0);
    const [image] = result['output_resources'] as Array<Record<string, unknown>>;
    expect(Object.keys(image ?? {}).sort()).toEqual(['metadata', 'mime_type', 'path', 'size', 'type', 'url']);

    // The output is served back to an authorised client, and only to one.
    const url = `${h.url}${image?.['url'] as string}`;
    expect((await fetch(url)).status).toBe(401);
    const file = await fetch(url, { headers: { authorization: `Bearer ${h.tokens.viewer}` } });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/png');
    const png = decodePng(Buffer.from(await file.arrayBuffer()));
    expect(png.width).toBe(200);
    expect(png.height).toBe(120);
    expect(image?.['size']).toBe(Number(file.headers.get('content-length')));
    // Left edge is the start colour, right edge the end colour, the middle column between them.
    expect(png.pixel(0, 0)).toEqual([255, 0, 0]);
    expect(png.pixel(199, 119)).toEqual([0, 0, 255]);
    const [r, g, b] = png.pixel(100, 2);
    expect(r).toBeGreaterThan(100);
    expect(r).toBeLessThan(160);
    expect(g).toBe(0);
    expect(b).toBeGreaterThan(100);
    // The text: white pixels only in the middle band, none at the top rows.
    let white = 0;
    for (let y = 0; y < png.height; y++)
      for (let x = 0; x < png.width; x++) {
        const [pr, pg, pb] = png.pixel(x, y);
        if (pr === 255 && pg === 255 && pb === 255) {
          white++;
          expect(y).toBeGreaterThan(10);
          expect(y).toBeLessThan(110);
        }
      }
    expect(white).toBeGreaterThan(100);

    // The native room has the same run as events: progress with percent and fraction, the plugin's log line.
    const events = await openSse(`${h.url}/api/v1/tasks/${taskId}/events`, { token: h.tokens.viewer });
    await events.ended;
    const native = events.events.map((e) => e.data as TaskEvent);
    const prog = native.filter((e) => e.type === 'progress');
    expect(prog).toHaveLength(20);
    expect(prog[9]?.data).toMatchObject({ percent: 50, fraction: 0.5 });
    expect(native.find((e) => e.type === 'log')?.data).toMatchObject({
      level: 'info',
      message: expect.stringContaining('200x120'),
    });
    expect(native.at(-1)).toMatchObject({ type: 'status', data: { status: 'succeeded' } });
  });

  it('bad bodies are 4xx naming the field; native code bodies still go to the native API', async () => {
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${h.url}${path}`, {
        method: 'POST',
        headers: json(h.tokens.operator),
        body: JSON.stringify(body),
      });
      return {
        status: res.status,
        body: (await res.json()) as { error: { code: string; field?: string; message: string } },
      };
    };
    for (const path of ['/api/v1/tasks', '/api/v1/tasks/execute']) {
      const noTool = await post(path, { plugin_name: 'text2image_demo', parameters: { prompt: 'x' } });
      expect(noTool.status).toBe(400);
      expect(noTool.body.error.field).toBe('tool_name');
      const badPlugin = await post(path, { tool_name: 'text2image', plugin_name: 'nope', parameters: {} });
      expect(badPlugin.status).toBe(404);
      expect(badPlugin.body.error.field).toBe('plugin_name');
      const badTool = await post(path, {
        tool_name: 'text2music',
        plugin_name: 'text2image_demo',
        parameters: {},
      });
      expect(badTool.status).toBe(404);
      expect(badTool.body.error.field).toBe('tool_name');
      const badResource = await post(path, {
        tool_name: 'text2image',
        parameters: {},
        resources: [{ type: 'ftp', data: 'x', mime_type: 'image/png' }],
      });
      expect(badResource.status).toBe(400);
      expect(badResource.body.error.field).toBe('resources.0.type');
    }
    const native = await post('/api/v1/tasks', { code: 'print(1)' });
    expect(native.status).toBe(201);
    expect((native.body as unknown as { kind: string }).kind).toBe('code');
  });

  it('a tool that rejects its arguments fails the task with the plugin’s reason', async () => {
    const stream = await openSse(`${h.url}/api/v1/tasks/execute`, {
      method: 'POST',
      token: h.tokens.operator,
      body: JSON.stringify({ tool_name: 'text2image', parameters: { prompt: 'x', width: 'wide' } }),
    });
    await stream.ended;
    const data = stream.events.map((e) => e.data as Record<string, unknown>);
    expect(data.at(-2)).toMatchObject({ _type: 'progress', type: 'failed' });
    const result = data.at(-1) as Record<string, unknown>;
    expect(result).toMatchObject({ _type: 'result', status: 'error' });
    expect(result['error_message']).toMatch(/width/);
  });
});
