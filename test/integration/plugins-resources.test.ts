import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { pluginClient, resultText, TEST_PLUGINS_DIR } from '../helpers/plugin-client.js';

/** Resource inputs: local paths confined to roots, URLs streamed under the limit, base64; limits per media kind. */

const LIMITS = { image: 1000, video: 3000, audio: 2000 };
let h: TestHub;
let client: ReturnType<typeof pluginClient>;
let base: string;
let root: string;
let outside: string;
let web: Server;
let webUrl: string;
const closedEarly: string[] = [];

const bytes = (n: number, fill = 7) => Buffer.alloc(n, fill);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function post(body: unknown) {
  const res = await fetch(`${h.url}/api/v1/tasks/execute`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.tokens.operator}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

function inspect(resources: unknown[]) {
  return { tool_name: 'inspect', plugin_name: 'flaky', parameters: {}, resources };
}

async function seen(resources: unknown[]): Promise<Array<Record<string, unknown>>> {
  const run = await client.execute(inspect(resources));
  expect(run.result).toMatchObject({ status: 'success' });
  return JSON.parse(resultText(run.result));
}

async function refused(resources: unknown[]): Promise<{ status: number; code: string; field: string }> {
  const res = await post(inspect(resources));
  const { error } = JSON.parse(res.text) as { error: { code: string; field: string } };
  return { status: res.status, code: error.code, field: error.field };
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'sb-res-'));
  root = join(base, 'root');
  outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(root, 'at-limit.png'), bytes(LIMITS.image));
  writeFileSync(join(root, 'past-limit.png'), bytes(LIMITS.image + 1));
  writeFileSync(join(root, 'clip.mp4'), bytes(LIMITS.video));
  writeFileSync(join(outside, 'secret.png'), bytes(10, 1));
  symlinkSync(join(outside, 'secret.png'), join(root, 'escape.png'));
  symlinkSync(join(root, 'at-limit.png'), join(root, 'inside-link.png'));
  symlinkSync(outside, join(root, 'escape-dir'));

  web = createServer((req, res) => {
    const path = req.url ?? '/';
    req.socket.on('close', () => {
      if (!res.writableEnded) closedEarly.push(path);
    });
    if (path === '/ok.png') return res.end(bytes(LIMITS.image, 3));
    if (path === '/declared-big.png') {
      res.writeHead(200, { 'content-length': String(LIMITS.image * 5) });
      return res.end(bytes(LIMITS.image * 5));
    }
    if (path === '/endless.png') {
      // No length, never ends: only the limit enforced while reading stops it.
      res.writeHead(200, { 'content-type': 'image/png' });
      const timer = setInterval(() => res.write(bytes(100)), 5);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (path === '/stall.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(bytes(10));
      return; // and nothing more
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;

  h = await startTestHub({
    pluginsDirs: [TEST_PLUGINS_DIR],
    resourceRoots: [root],
    resourceMaxImageBytes: LIMITS.image,
    resourceMaxVideoBytes: LIMITS.video,
    resourceMaxAudioBytes: LIMITS.audio,
    resourceUrlTimeoutS: 2,
  });
  client = pluginClient(h.url, h.tokens.operator);
});
afterAll(async () => {
  await h?.close();
  web?.closeAllConnections();
  web?.close();
  rmSync(base, { recursive: true, force: true });
});

describe('local_path resources', () => {
  it('a file in a root at the limit is handed to the plugin by its real path', async () => {
    const [r] = await seen([
      { type: 'local_path', data: join(root, 'at-limit.png'), mime_type: 'image/png' },
    ]);
    expect(r).toMatchObject({
      type: 'local_path',
      path: realpathSync(join(root, 'at-limit.png')),
      size: 1000,
      read: 1000,
    });
    const [link] = await seen([
      { type: 'local_path', data: join(root, 'inside-link.png'), mime_type: 'image/png' },
    ]);
    expect(link?.['path']).toBe(realpathSync(join(root, 'at-limit.png')));
    // The video limit is larger: the same kind of file at 3000 bytes passes as video.
    const [clip] = await seen([{ type: 'local_path', data: join(root, 'clip.mp4'), mime_type: 'video/mp4' }]);
    expect(clip?.['read']).toBe(LIMITS.video);
  });

  it('past the limit, traversal, outside the roots and symlink escapes are refused before a task exists', async () => {
    expect(
      await refused([{ type: 'local_path', data: join(root, 'past-limit.png'), mime_type: 'image/png' }]),
    ).toEqual({
      status: 413,
      code: 'payload_too_large',
      field: 'resources.0.data',
    });
    expect(
      await refused([{ type: 'local_path', data: `${root}/../outside/secret.png`, mime_type: 'image/png' }]),
    ).toEqual({
      status: 400,
      code: 'bad_request',
      field: 'resources.0.data',
    });
    const forbidden = { status: 403, code: 'forbidden', field: 'resources.0.data' };
    expect(
      await refused([{ type: 'local_path', data: join(outside, 'secret.png'), mime_type: 'image/png' }]),
    ).toEqual(forbidden);
    expect(
      await refused([{ type: 'local_path', data: join(root, 'escape.png'), mime_type: 'image/png' }]),
    ).toEqual(forbidden);
    expect(
      await refused([
        { type: 'local_path', data: join(root, 'escape-dir', 'secret.png'), mime_type: 'image/png' },
      ]),
    ).toEqual(forbidden);
    expect(await refused([{ type: 'local_path', data: '/etc/passwd', mime_type: 'text/plain' }])).toEqual(
      forbidden,
    );
    expect(
      await refused([{ type: 'local_path', data: join(root, 'missing.png'), mime_type: 'image/png' }]),
    ).toMatchObject({
      status: 404,
    });
    // A second resource is named by its own index.
    const second = await refused([
      { type: 'local_path', data: join(root, 'at-limit.png'), mime_type: 'image/png' },
      { type: 'local_path', data: join(root, 'escape.png'), mime_type: 'image/png' },
    ]);
    expect(second.field).toBe('resources.1.data');
  });

  it("one task's output feeds the next as a local path (outputs are always readable)", async () => {
    const made = await client.execute({
      tool_name: 'text2image',
      parameters: { prompt: 'chain', width: 20, height: 20, steps: 1, step_delay_ms: 0 },
    });
    const [file] = made.result['output_files'] as string[];
    // Under the image limit of this hub? a 20x20 PNG is a few hundred bytes.
    const [r] = await seen([{ type: 'local_path', data: file, mime_type: 'image/png' }]);
    expect(r?.['path']).toBe(realpathSync(file as string));
  });
});

describe('base64 resources', () => {
  it('at each kind’s limit they pass; one byte more is refused with 413', async () => {
    for (const [mime, limit] of [
      ['image/png', LIMITS.image],
      ['video/mp4', LIMITS.video],
      ['audio/wav', LIMITS.audio],
      ['application/octet-stream', LIMITS.image],
    ] as const) {
      const ok = bytes(limit, 9);
      const [r] = await seen([{ type: 'base64', data: ok.toString('base64'), mime_type: mime }]);
      expect(r).toMatchObject({ size: limit, read: limit, sha256: sha(ok), digest: sha(ok) });
      const over = await refused([
        { type: 'base64', data: bytes(limit + 1).toString('base64'), mime_type: mime },
      ]);
      expect(over).toEqual({ status: 413, code: 'payload_too_large', field: 'resources.0.data' });
    }
  });

  it('is cached by content hash, accepts data: URLs, and refuses what is not base64', async () => {
    const data = Buffer.from('same content');
    const [a] = await seen([{ type: 'base64', data: data.toString('base64'), mime_type: 'image/png' }]);
    const [b] = await seen([
      { type: 'base64', data: `data:image/png;base64,${data.toString('base64')}`, mime_type: 'image/png' },
    ]);
    expect(a?.['path']).toBe(b?.['path']);
    expect(a?.['path']).toContain(sha(data));
    expect(await refused([{ type: 'base64', data: 'not base64!!', mime_type: 'image/png' }])).toMatchObject({
      status: 400,
      field: 'resources.0.data',
    });
  });
});

describe('remote_url resources', () => {
  it('a download at the limit reaches the plugin, cached by hash', async () => {
    const [r] = await seen([{ type: 'remote_url', data: `${webUrl}/ok.png`, mime_type: 'image/png' }]);
    expect(r).toMatchObject({ size: LIMITS.image, read: LIMITS.image, sha256: sha(bytes(LIMITS.image, 3)) });
    expect(r?.['metadata']).toMatchObject({ source_url: `${webUrl}/ok.png` });
  });

  async function failed(data: string) {
    const run = await client.execute(inspect([{ type: 'remote_url', data, mime_type: 'image/png' }]));
    expect(run.result).toMatchObject({ status: 'error' });
    return (await client.task(run.taskId)).error;
  }

  it('a declared size over the limit, and a body that never ends, fail the task with payload_too_large', async () => {
    expect(await failed(`${webUrl}/declared-big.png`)).toMatchObject({
      code: 'payload_too_large',
      field: 'resources.0.data',
    });
    const endless = await failed(`${webUrl}/endless.png`);
    expect(endless).toMatchObject({ code: 'payload_too_large', field: 'resources.0.data' });
    // The hub hung up instead of reading on.
    await expect.poll(() => closedEarly.includes('/endless.png'), { timeout: 10_000 }).toBe(true);
  });

  it('a body that stalls times out; a 404 and a non-http URL are errors naming the field', async () => {
    const stalled = await failed(`${webUrl}/stall.png`);
    expect(stalled).toMatchObject({ code: 'timed_out', field: 'resources.0.data' });
    expect(stalled?.message).toMatch(/within 2s/);
    expect(await failed(`${webUrl}/missing.png`)).toMatchObject({
      code: 'bad_request',
      message: expect.stringMatching(/404/),
    });
    expect(
      await refused([{ type: 'remote_url', data: 'file:///etc/passwd', mime_type: 'image/png' }]),
    ).toMatchObject({
      status: 400,
      field: 'resources.0.data',
    });
  });
});
