import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { pluginClient } from '../helpers/plugin-client.js';

/** Every plugin-service route asks for a token and the right role; output files never leave their folder. */

let h: TestHub;
let taskId: string;
let outputUrl: string;

const BODY = {
  tool_name: 'text2image',
  parameters: { prompt: 'auth', width: 16, height: 16, steps: 1, step_delay_ms: 0 },
};

beforeAll(async () => {
  h = await startTestHub();
  const run = await pluginClient(h.url, h.tokens.operator).execute(BODY);
  taskId = run.taskId;
  outputUrl = (run.result['output_resources'] as Array<{ url: string }>)[0]?.url ?? '';
});
afterAll(async () => {
  await h?.close();
});

async function call(method: string, path: string, token?: string, body?: unknown): Promise<number> {
  const res = await fetch(`${h.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('plugin routes and roles', () => {
  const reads = () => [
    ['GET', '/api/v1/tools'],
    ['GET', '/api/v1/plugins'],
    ['GET', '/api/v1/plugins/errors'],
    ['GET', '/api/v1/plugins/by-tool/text2image'],
    ['GET', `/api/v1/tasks/${taskId}`],
    ['GET', outputUrl],
  ];
  const writes = () => [
    ['POST', '/api/v1/tasks'],
    ['POST', '/api/v1/tasks/execute'],
  ];

  it('no token or a bad one is 401 everywhere but health', async () => {
    for (const [method, path] of [...reads(), ...writes()] as Array<[string, string]>) {
      const body = method === 'POST' ? BODY : undefined;
      expect(await call(method, path, undefined, body), `${method} ${path}`).toBe(401);
      expect(await call(method, path, 'sb_bad_token_0000000000000000', body), `${method} ${path}`).toBe(401);
    }
    expect(await call('GET', '/api/v1/health')).toBe(200);
  });

  it('a viewer reads but may not run tools; an extension token may do neither; an operator may', async () => {
    for (const [method, path] of reads() as Array<[string, string]>) {
      expect(await call(method, path, h.tokens.viewer), `${method} ${path}`).toBe(200);
      expect(await call(method, path, h.tokens.extension), `${method} ${path}`).toBe(403);
    }
    for (const [method, path] of writes() as Array<[string, string]>) {
      expect(await call(method, path, h.tokens.viewer, BODY), `${method} ${path}`).toBe(403);
      expect(await call(method, path, h.tokens.extension, BODY), `${method} ${path}`).toBe(403);
      expect(await call(method, path, h.tokens.operator, BODY), `${method} ${path}`).toBe(200);
    }
  });

  it('output names cannot climb out of the task folder', async () => {
    for (const bad of ['..%2F..%2Ftokens.json', '..', '%2Fetc%2Fpasswd']) {
      const status = await call('GET', `/api/v1/plugin-outputs/${taskId}/${bad}`, h.tokens.viewer);
      expect([400, 404], bad).toContain(status);
    }
    expect(await call('GET', `/api/v1/plugin-outputs/..%2F/tokens.json`, h.tokens.viewer)).toBe(400);
    expect(await call('GET', `/api/v1/plugin-outputs/${taskId}/nope.png`, h.tokens.viewer)).toBe(404);
  });
});
