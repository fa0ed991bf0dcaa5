import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskEvent } from '../../server/protocol/index.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { pluginClient, resultText, TEST_PLUGINS_DIR } from '../helpers/plugin-client.js';
import { openSse } from '../helpers/sse-client.js';

/** An MCP server nobody here wrote (the reference "everything" server) as a plugin, over stdio and HTTP. */

const EVERYTHING = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);

let h: TestHub;
let client: ReturnType<typeof pluginClient>;
let httpServer: ChildProcess;
let extraDir: string;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

function manifest(dir: string, name: string, text: string): string {
  mkdirSync(join(dir, name), { recursive: true });
  const file = join(dir, name, 'plugin.yaml');
  writeFileSync(file, text);
  return file;
}

beforeAll(async () => {
  const port = await freePort();
  httpServer = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('everything (HTTP) did not start')), 20_000);
    const onData = (b: Buffer) => {
      if (b.toString().includes('listening on port')) {
        clearTimeout(timer);
        resolve();
      }
    };
    httpServer.stderr?.on('data', onData);
    httpServer.stdout?.on('data', onData);
  });
  extraDir = mkdtempSync(join(tmpdir(), 'sb-plugins-'));
  manifest(extraDir, 'remote', `name: everything_http\nurl: http://127.0.0.1:${port}/mcp\nstart: eager\n`);
  h = await startTestHub({ pluginsDirs: [TEST_PLUGINS_DIR, extraDir] });
  client = pluginClient(h.url, h.tokens.operator);
});
afterAll(async () => {
  await h?.close();
  httpServer?.kill();
  if (extraDir) rmSync(extraDir, { recursive: true, force: true });
});

describe('a third-party MCP server as a plugin', () => {
  it('lists its own tools: tools, plugins and by-tool start it to learn them', async () => {
    const res = await fetch(`${h.url}/api/v1/plugins/by-tool/echo`, {
      headers: { authorization: `Bearer ${h.tokens.viewer}` },
    });
    const names = ((await res.json()) as Array<{ name: string }>).map((p) => p.name).sort();
    expect(names).toEqual(['everything', 'everything_http']);
    const tools = (await (
      await fetch(`${h.url}/api/v1/tools`, { headers: { authorization: `Bearer ${h.tokens.viewer}` } })
    ).json()) as Array<{
      name: string;
      plugins: string[];
    }>;
    expect(tools.find((t) => t.name === 'get-sum')?.plugins.sort()).toEqual([
      'everything',
      'everything_http',
    ]);
  });

  it('echo and get-sum through /api/v1/tasks/execute', async () => {
    const echo = await client.execute({
      tool_name: 'echo',
      plugin_name: 'everything',
      parameters: { message: 'hi there' },
    });
    expect(echo.result).toMatchObject({ _type: 'result', status: 'success' });
    expect(resultText(echo.result)).toBe('Echo: hi there');
    const sum = await client.execute({
      tool_name: 'get-sum',
      plugin_name: 'everything',
      parameters: { a: 2, b: 40 },
    });
    expect(resultText(sum.result)).toContain('42');
  });

  it('its progress notifications stream as progress with percent', async () => {
    const run = await client.execute({
      tool_name: 'trigger-long-running-operation',
      plugin_name: 'everything',
      parameters: { duration: 1, steps: 4 },
    });
    expect(run.result).toMatchObject({ status: 'success' });
    const percents = run.messages.filter((m) => m['type'] === 'progress').map((m) => m['percent']);
    expect(percents).toEqual([25, 50, 75, 100]);
  });

  it('an image it returns becomes an output file served back', async () => {
    const run = await client.execute({
      tool_name: 'get-tiny-image',
      plugin_name: 'everything',
      parameters: {},
    });
    const [image] = run.result['output_resources'] as Array<{ url: string; mime_type: string; size: number }>;
    expect(image?.mime_type).toBe('image/png');
    const file = await fetch(`${h.url}${image?.url}`, {
      headers: { authorization: `Bearer ${h.tokens.viewer}` },
    });
    const bytes = Buffer.from(await file.arrayBuffer());
    expect(bytes.length).toBe(image?.size);
    // The same bytes the server sent (its PNG is RGBA, so only the header is read here).
    expect(bytes.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([20, 20]);
  });

  it('over streamable HTTP (started eagerly with the hub)', async () => {
    const plugin = (await client.plugins()).find((p) => p['name'] === 'everything_http');
    expect(plugin).toMatchObject({ transport: 'streamable_http', state: 'ready' });
    const run = await client.execute({
      tool_name: 'echo',
      plugin_name: 'everything_http',
      parameters: { message: 'over http' },
    });
    expect(resultText(run.result)).toBe('Echo: over http');
    const long = await client.execute({
      tool_name: 'trigger-long-running-operation',
      plugin_name: 'everything_http',
      parameters: { duration: 0.4, steps: 2 },
    });
    expect(long.messages.filter((m) => m['type'] === 'progress').map((m) => m['percent'])).toEqual([50, 100]);
  });

  it('a tool-level error (isError) fails the task with the tool’s text', async () => {
    const run = await client.execute({
      tool_name: 'get-sum',
      plugin_name: 'everything',
      parameters: { a: 'x' },
    });
    expect(run.result).toMatchObject({ status: 'error' });
    const task = await client.task(run.taskId);
    expect(task.status).toBe('failed');
    expect(task.error?.code).toBe('plugin_failed');
    const s = await openSse(`${h.url}/api/v1/tasks/${run.taskId}/events`, { token: h.tokens.viewer });
    await s.ended;
    expect(s.events.map((e) => (e.data as TaskEvent).type)).toContain('error');
  });
});

describe('manifests with errors', () => {
  it('are reported by file and field, and the others still load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-manifests-'));
    try {
      const badYaml = manifest(dir, 'a-bad-yaml', 'name: [unclosed\n');
      const noCommand = manifest(dir, 'b-no-command', 'name: nocmd\n');
      const badField = manifest(
        dir,
        'c-bad-field',
        'name: badfield\ncommand: node\nconcurrency: lots\ncolour: red\n',
      );
      const dup = manifest(dir, 'd-dup', 'name: flaky\ncommand: node\n');
      manifest(dir, 'f-broken', 'name: broken\ncommand: /nonexistent/plugin-binary\ntools: [draw]\n');
      manifest(
        dir,
        'e-good',
        `name: good\ncommand: node\nargs: [${JSON.stringify(EVERYTHING)}, stdio]\ntools: [echo]\n`,
      );
      const own = await startTestHub({ pluginsDirs: [TEST_PLUGINS_DIR, dir] });
      try {
        const headers = { authorization: `Bearer ${own.tokens.viewer}` };
        const problems = (await (
          await fetch(`${own.url}/api/v1/plugins/errors`, { headers })
        ).json()) as Array<{
          file: string;
          field: string;
          message: string;
        }>;
        const by = (file: string) => problems.filter((p) => p.file === file);
        expect(by(badYaml)).toEqual([
          { file: badYaml, field: '(file)', message: expect.stringMatching(/not valid YAML/) },
        ]);
        expect(by(noCommand)).toEqual([
          { file: noCommand, field: 'command', message: expect.stringMatching(/command .* or url/) },
        ]);
        expect(
          by(badField)
            .map((p) => p.field)
            .sort(),
        ).toEqual(['colour', 'concurrency']);
        expect(by(dup)).toEqual([
          { file: dup, field: 'name', message: expect.stringMatching(/already defined/) },
        ]);
        const health = (await (await fetch(`${own.url}/api/v1/health`)).json()) as Record<string, number>;
        expect(health['manifest_errors']).toBe(problems.length);
        const names = (
          (await (await fetch(`${own.url}/api/v1/plugins`, { headers })).json()) as Array<{ name: string }>
        )
          .map((p) => p.name)
          .sort();
        expect(names).toEqual(['broken', 'everything', 'flaky', 'good', 'text2image_demo']);
        const c = pluginClient(own.url, own.tokens.operator);
        const run = await c.execute({
          tool_name: 'echo',
          plugin_name: 'good',
          parameters: { message: 'loaded' },
        });
        expect(resultText(run.result)).toBe('Echo: loaded');
        // A plugin whose program cannot start: the call fails with why, the plugin shows the error.
        const broken = await c.execute({ tool_name: 'draw', plugin_name: 'broken', parameters: {} });
        expect(broken.result).toMatchObject({ status: 'error' });
        expect(broken.result['error_message']).toMatch(/plugin broken failed to start: .*ENOENT/);
        expect((await c.task(broken.taskId)).error?.code).toBe('plugin_unavailable');
        const info = (await c.plugins()).find((p) => p['name'] === 'broken');
        expect(info?.['last_error']).toMatch(/ENOENT/);
        expect(['backoff', 'starting', 'failed']).toContain(info?.['state']);
      } finally {
        await own.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
