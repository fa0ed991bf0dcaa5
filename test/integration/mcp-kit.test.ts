import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { type McpTestClient, mcpHttpClient, structured } from '../helpers/mcp.js';
import { startPythonBridge, stopAllBridges } from '../helpers/python-bridge.js';

// The scene tools against the extension running under the Kit stand-in (omni.usd with a small stage).
let hub: TestHub;
let client: McpTestClient;
let kitId: string;

beforeAll(async () => {
  hub = await startTestHub();
  ({
    info: { id: kitId },
  } = await startPythonBridge(hub, { name: 'mcp-kit', mode: 'kit', labels: ['kit'] }));
  // A plain Python host too: the scene tools must say clearly when they land on one.
  await startPythonBridge(hub, { name: 'mcp-plain', labels: ['plain'] });
  client = await mcpHttpClient(hub.url, hub.tokens.operator);
}, 60_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await stopAllBridges();
  await hub?.close();
});

describe('MCP scene tools on Kit', () => {
  it('get_scene_info lists the stage basics and the prims under a path', async () => {
    const result = await client.call('get_scene_info', { label: 'kit' });
    expect(result.isError).toBeUndefined();
    const body = structured(result);
    expect(body).toMatchObject({ status: 'succeeded', extensionId: kitId });
    expect(body['result']).toEqual({
      stagePath: 'omniverse://standin/stage.usd',
      defaultPrim: '/World',
      upAxis: 'Y',
      metersPerUnit: 0.01,
      root: '/',
      prims: [
        { path: '/World', type: 'Xform' },
        { path: '/World/Cube', type: 'Cube' },
        { path: '/World/Looks', type: 'Scope' },
      ],
      truncated: false,
    });
    const limited = structured(
      await client.call('get_scene_info', { label: 'kit', path: '/World', limit: 1 }),
    );
    expect(limited['result']).toMatchObject({
      root: '/World',
      prims: [{ path: '/World/Cube', type: 'Cube' }],
      truncated: true,
    });
  });

  it('get_prim returns type, children and attribute values as JSON', async () => {
    const body = structured(await client.call('get_prim', { path: '/World/Cube', extensionId: kitId }));
    expect(body['result']).toEqual({
      path: '/World/Cube',
      type: 'Cube',
      children: [],
      attributes: [
        { name: 'size', type: 'double', value: 2 },
        {
          name: 'extent',
          type: 'float3[]',
          value: [
            [-1, -1, -1],
            [1, 1, 1],
          ],
        },
        { name: 'primvars:displayColor', type: 'color3f[]', value: [[0.2, 0.4, 0.8]] },
      ],
    });
    const world = structured(await client.call('get_prim', { path: '/World', label: 'kit' }));
    expect(world['result']).toMatchObject({ children: ['/World/Cube', '/World/Looks'] });
  });

  it('a missing prim, or a host without Kit, is a tool error that says why', async () => {
    const missing = await client.call('get_prim', { path: '/World/Nope', label: 'kit' });
    expect(missing.isError).toBe(true);
    expect(structured(missing)['error']).toMatchObject({
      message: expect.stringContaining('no prim at /World/Nope'),
    });
    const plain = await client.call('get_scene_info', { label: 'plain' });
    expect(plain.isError).toBe(true);
    expect(structured(plain)['error']).toMatchObject({ message: expect.stringContaining('omni') });
  });
});
