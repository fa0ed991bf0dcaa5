import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../server/protocol/index.js';
import { http } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { type McpTestClient, mcpError, mcpHttpClient } from '../helpers/mcp.js';
import { decodePng } from '../helpers/png.js';

/** Plugin tools through the hub's own MCP server: the built-in text2image_demo plugin, a real MCP process. */

let hub: TestHub;
const clients: McpTestClient[] = [];

async function connect(token: string): Promise<McpTestClient> {
  const c = await mcpHttpClient(hub.url, token);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  hub = await startTestHub();
});

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await hub?.close();
});

describe('plugin tools over /mcp', () => {
  it('lists every plugin tool next to the hub tools', async () => {
    const c = await connect(hub.tokens.viewer);
    const { tools } = await c.client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toContain('execute_python');
    const t2i = tools.find((t) => t.name === 'text2image');
    expect(t2i?.description).toContain('text2image_demo');
    expect(t2i?.inputSchema.type).toBe('object');
  });

  it('runs a plugin tool as a plugin task: progress streams, the PNG comes back, the task is listed', async () => {
    const c = await connect(hub.tokens.operator);
    const result = await c.call('text2image', { prompt: 'hi', width: 64, height: 32, steps: 5 });
    expect(result.isError).toBeFalsy();
    expect(c.seen.some((s) => s.kind === 'progress')).toBe(true);
    const progressAt = c.seen.findIndex((s) => s.kind === 'progress');
    const resultAt = c.seen.findIndex((s) => s.kind === 'result');
    expect(progressAt).toBeLessThan(resultAt);

    const image = result.content.find((p) => p.type === 'image');
    expect(image?.type).toBe('image');
    if (image?.type !== 'image') return;
    expect(image.mimeType).toBe('image/png');
    const png = decodePng(Buffer.from(image.data, 'base64'));
    expect([png.width, png.height]).toEqual([64, 32]);

    const summary = result.structuredContent as { taskId: string; status: string };
    expect(summary.status).toBe('succeeded');
    const res = await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${summary.taskId}`);
    expect(res.status).toBe(200);
    expect(res.body.kind).toBe('plugin');
    expect(res.body.status).toBe('succeeded');
  });

  it('refuses a viewer calling a plugin tool, naming the role', async () => {
    const c = await connect(hub.tokens.viewer);
    const err = await mcpError(c.call('text2image', { prompt: 'no' }));
    expect(err.message).toContain('viewer');
  });
});
