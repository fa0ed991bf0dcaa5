import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildHub, type Hub } from '../../server/app.js';
import { monitorStatic } from '../../server/http/monitor-static.js';
import { createLogger } from '../../server/log.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function hubWith(config: Parameters<typeof startTestHub>[0]): Promise<TestHub> {
  const hub = await startTestHub(config);
  cleanup.push(() => hub.close());
  return hub;
}

/** Sends the request line exactly as written (fetch and http.request would normalise `..` away). */
function rawGet(url: string, path: string, token: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
      );
    });
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

/** A GET from a chosen loopback address (127.0.0.0/8 is all local on Linux), so one test can be two clients. */
function getFrom(
  localAddress: string,
  url: string,
  path: string,
  token: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { localAddress, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('static paths that climb out', () => {
  it('answer 404 logged at info, never 500 or a stack trace', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        cb();
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'sb-static-'));
    const hub: Hub = await buildHub(
      { port: 0, dataDir: dir, logLevel: 'info' },
      { logger: createLogger('info', sink) },
    );
    cleanup.push(async () => {
      await hub.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const url = await hub.listen();
    const token = hub.ctx.auth.tokens.viewer;
    const paths = [
      '/assets/../../etc/passwd',
      '/assets/../../../../../../etc/passwd',
      '/assets/%2e%2e/%2e%2e/etc/passwd',
      '/assets/..%2f..%2fetc/passwd',
      '/assets/..\\..\\etc\\passwd',
      '/assets/%2e%2e%5c%2e%2e%5cetc%5cpasswd',
      '/assets/....//....//etc/passwd',
      '/assets/%00',
      '/../../etc/passwd',
    ];
    for (const path of paths) {
      const res = await rawGet(url, path, token);
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.body), path).toMatchObject({ error: { code: 'not_found' } });
      expect(res.body, path).not.toMatch(/root:|stack|at /);
    }
    const problems = lines.filter((l) => Number(l['level']) >= 40);
    expect(problems, JSON.stringify(problems)).toEqual([]);
    expect(JSON.stringify(lines)).not.toMatch(/"stack"/);
    expect(lines.some((l) => l['level'] === 30 && l['msg'] === 'refused a monitor asset path')).toBe(true);
  });
});

describe('a built monitor', () => {
  it('still serves its assets, and refuses climbing out of them', async () => {
    const dist = mkdtempSync(join(tmpdir(), 'sb-dist-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'assets', 'app.js'), 'console.log("monitor")');
    writeFileSync(join(dist, 'secret.txt'), 'not an asset');
    const app = Fastify();
    monitorStatic(app, dist);
    cleanup.push(async () => {
      await app.close();
      rmSync(dist, { recursive: true, force: true });
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const asset = await rawGet(url, '/assets/app.js', 'unused');
    expect(asset.status).toBe(200);
    expect(asset.body).toContain('console.log("monitor")');
    for (const path of ['/assets/../secret.txt', '/assets/%2e%2e/secret.txt', '/assets/..%5csecret.txt']) {
      const res = await rawGet(url, path, 'unused');
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toContain('not an asset');
    }
  });
});

describe('rate limits per client', () => {
  it('give each address its own budget, so one busy viewer does not throttle another', async () => {
    const hub = await hubWith({ rateLimitPerMinute: 5 });
    const viewer = hub.tokens.viewer;
    for (let i = 0; i < 5; i++) {
      expect((await getFrom('127.0.0.1', hub.url, '/api/v1/tasks', viewer)).status).toBe(200);
    }
    expect((await getFrom('127.0.0.1', hub.url, '/api/v1/tasks', viewer)).status).toBe(429);
    expect((await getFrom('127.0.0.2', hub.url, '/api/v1/tasks', viewer)).status).toBe(200);
  });

  it('refuse an address after repeated failed authentications, whatever token it tries next', async () => {
    const hub = await hubWith({ authFailuresPerMinute: 5 });
    const guess = `${hub.tokens.admin.slice(0, -1)}x`;
    for (let i = 0; i < 5; i++) {
      const res = await getFrom('127.0.0.1', hub.url, '/api/v1/tasks', guess);
      expect(res.status).toBe(401);
    }
    const locked = await getFrom('127.0.0.1', hub.url, '/api/v1/tasks', guess);
    expect(locked.status).toBe(429);
    expect(JSON.parse(locked.body)).toMatchObject({
      error: {
        code: 'rate_limited',
        message: expect.stringMatching(/failed authentications from 127\.0\.0\.1/),
      },
    });
    // Even the right token: otherwise the guesser would still learn which guess was right.
    expect((await getFrom('127.0.0.1', hub.url, '/api/v1/tasks', hub.tokens.admin)).status).toBe(429);
    expect((await getFrom('127.0.0.2', hub.url, '/api/v1/tasks', hub.tokens.admin)).status).toBe(200);
  });
});
