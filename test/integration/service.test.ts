import { afterEach, describe, expect, it } from 'vitest';
import type { Task } from '../../server/protocol/index.js';
import { http, monitorClient, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { scriptedExtension } from '../helpers/scripted-extension.js';

let hub: TestHub;
afterEach(() => hub?.close());

describe('service endpoints', () => {
  it('serves OpenAPI generated from the schemas, and Swagger UI', async () => {
    hub = await startTestHub();
    const spec = await http<{
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    }>(hub.url, null, 'GET', '/openapi.json');
    expect(spec.status).toBe(200);
    expect(spec.body.openapi).toMatch(/^3\./);
    for (const path of [
      '/api/v1/tasks',
      '/api/v1/tasks/{id}',
      '/execute',
      '/queue',
      '/status/{task_id}',
      '/next_code',
      '/status_update',
    ]) {
      expect(Object.keys(spec.body.paths)).toContain(path);
    }
    expect(JSON.stringify(spec.body.paths['/execute']?.['post']?.requestBody)).toContain('timeout');
    const docs = await fetch(`${hub.url}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger/i);
  });

  it('answers / with service info and /metrics in Prometheus text', async () => {
    hub = await startTestHub();
    const info = await http<{ name: string; apis: Record<string, unknown> }>(hub.url, null, 'GET', '/');
    expect(info.body.name).toBe('switchboard');
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'kit' });
    const watcher = await monitorClient(hub.url, hub.tokens.viewer);
    const task = (await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'x' }))
      .body;
    await until(
      async () =>
        (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${task.id}`)).body.status ===
        'succeeded',
    );
    const res = await fetch(`${hub.url}/metrics`, {
      headers: { authorization: `Bearer ${hub.tokens.viewer}` },
    });
    const text = await res.text();
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    expect(text).toMatch(/^switchboard_tasks\{status="succeeded"\} 1$/m);
    expect(text).toMatch(/^switchboard_extensions_online 1$/m);
    expect(text).toMatch(/^switchboard_task_events_total 6$/m);
    expect(text).toMatch(/^switchboard_socket_clients\{namespace="\/monitor"\} 1$/m);
    expect((await fetch(`${hub.url}/metrics`)).status).toBe(401);
    ext.close();
    watcher.close();
  });
});
