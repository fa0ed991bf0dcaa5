import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReferenceHost, type ReferenceHostOptions } from '../../extension-bridge/host/index.js';
import type { ExtensionInfo, Task, TaskEvent } from '../../server/protocol/index.js';
import { isTerminal } from '../../server/protocol/index.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub;
const hosts: ReferenceHost[] = [];

beforeEach(async () => {
  hub = await startTestHub();
});
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
  await hub.close();
});

async function startHost(options: Partial<ReferenceHostOptions> = {}): Promise<ReferenceHost> {
  const host = new ReferenceHost({ url: hub.url, token: hub.tokens.extension, name: 'ref-host', ...options });
  hosts.push(host);
  await host.start();
  return host;
}

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${hub.tokens.operator}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function submit(code: string, extra: Record<string, unknown> = {}): Promise<Task> {
  const res = await api<Task>('POST', '/api/v1/tasks', { code, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function taskWhere(id: string, ok: (t: Task) => boolean, ms?: number): Promise<Task> {
  return waitFor(
    async () => {
      const { body } = await api<Task>('GET', `/api/v1/tasks/${id}`);
      return ok(body) ? body : undefined;
    },
    `task ${id}`,
    ms,
  );
}

const ended = (id: string, ms?: number) => taskWhere(id, (t) => isTerminal(t.status), ms);

/** Reads a task's SSE stream to its end; each event with the time it arrived. */
async function sse(id: string): Promise<Array<{ event: TaskEvent; at: number }>> {
  const res = await fetch(`${hub.url}/api/v1/tasks/${id}/events`, {
    headers: { authorization: `Bearer ${hub.tokens.operator}` },
  });
  const out: Array<{ event: TaskEvent; at: number }> = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const data = buffer
        .slice(0, end)
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      buffer = buffer.slice(end + 2);
      if (data) out.push({ event: JSON.parse(data) as TaskEvent, at: Date.now() });
    }
  }
  return out;
}

describe('reference host against a real hub', () => {
  it('registers and is listed as online', async () => {
    const host = await startHost({ name: 'lister', labels: ['gpu', 'stage:a'], concurrency: 2 });
    const { body } = await api<ExtensionInfo[]>('GET', '/api/v1/extensions');
    const info = body.find((e) => e.id === host.id);
    expect(info).toMatchObject({
      name: 'lister',
      labels: ['gpu', 'stage:a'],
      concurrency: 2,
      online: true,
      transport: 'socket.io',
      capabilities: { hostApp: 'switchboard-reference-host' },
    });
  });

  it('fails to start with a token the hub refuses', async () => {
    const host = new ReferenceHost({ url: hub.url, token: 'not-a-token', name: 'intruder' });
    hosts.push(host);
    await expect(host.start()).rejects.toThrow(/refused/);
  });

  it('streams stdout as output events while the job runs', async () => {
    await startHost();
    const task = await submit('import time\nprint("before")\ntime.sleep(1)\nprint("after")\n"done"');
    const events = await sse(task.id);
    const outputs = events.filter((e) => e.event.type === 'output');
    expect(outputs.map((e) => (e.event.type === 'output' ? e.event.data.text : '')).join('')).toBe(
      'before\nafter\n',
    );
    const before = outputs.find((e) => e.event.type === 'output' && e.event.data.text.includes('before'));
    const last = events.at(-1);
    expect(last?.event).toMatchObject({ type: 'status', data: { status: 'succeeded' } });
    expect((last?.at ?? 0) - (before?.at ?? Number.POSITIVE_INFINITY)).toBeGreaterThanOrEqual(700);
    expect((await ended(task.id)).result).toBe('done');
  });

  it('delivers a flood of output whole and in order', async () => {
    await startHost();
    const task = await submit(
      'import sys\nfor i in range(50000):\n    print(i)\n    if i % 997 == 0: print(i, file=sys.stderr)',
    );
    const texts = (stream: string) =>
      events
        .flatMap(({ event: e }) => (e.type === 'output' && e.data.stream === stream ? [e.data.text] : []))
        .join('');
    const events = await sse(task.id);
    expect(texts('stdout')).toBe(Array.from({ length: 50000 }, (_, i) => `${i}\n`).join(''));
    expect(texts('stderr')).toBe(Array.from({ length: 51 }, (_, i) => `${i * 997}\n`).join(''));
  });

  it('returns the value of the last expression', async () => {
    await startHost();
    const task = await ended((await submit('x = 6\n{"answer": x * 7, "items": [1, None]}')).id);
    expect(task.status).toBe('succeeded');
    expect(task.result).toEqual({ answer: 42, items: [1, null] });
  });

  it('fails a job whose result is too large to send, instead of losing the connection', async () => {
    await startHost();
    const task = await ended((await submit('"x" * (5 * 1024 * 1024)')).id);
    expect(task.status).toBe('failed');
    expect(task.error?.message).toMatch(/^ResultTooLarge: /);
  });

  it('fails a task whose code raises, with the traceback', async () => {
    await startHost();
    const task = await ended((await submit('def f():\n    return 1 / 0\n\nf()')).id);
    expect(task.status).toBe('failed');
    expect(task.error?.message).toBe('ZeroDivisionError: division by zero');
    expect(task.error?.traceback).toContain('File "<job>", line 2, in f');
  });

  it('cancels a running job and takes the next one', async () => {
    const host = await startHost();
    const loop = await submit('import time\nwhile True: time.sleep(0.01)');
    await taskWhere(loop.id, (t) => t.status === 'running');
    const cancel = await api<Task>('POST', `/api/v1/tasks/${loop.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect((await ended(loop.id)).status).toBe('cancelled');
    await waitFor(() => (host.running.size === 0 ? true : undefined), 'the job to be killed', 3_000);
    const startedAt = Date.now();
    const next = await ended((await submit('1 + 1')).id);
    expect(next).toMatchObject({ status: 'succeeded', result: 2, extensionId: host.id });
    // The host confirmed the stop, so the hub did not wait out its cancel grace period.
    expect(Date.now() - startedAt).toBeLessThan(hub.hub.config.cancelGraceMs);
  });

  it('stops a job that runs past its timeout', async () => {
    const host = await startHost();
    const task = await ended((await submit('while True: pass', { timeoutMs: 500 })).id);
    expect(task.status).toBe('timed_out');
    await waitFor(() => (host.running.size === 0 ? true : undefined), 'the job to be killed', 3_000);
  });

  it('sends each host the jobs for its label', async () => {
    const alpha = await startHost({ name: 'alpha', labels: ['alpha'] });
    const beta = await startHost({ name: 'beta', labels: ['beta'] });
    const seen = { alpha: [] as string[], beta: [] as string[] };
    alpha.on('job', (job) => seen.alpha.push(job.taskId));
    beta.on('job', (job) => seen.beta.push(job.taskId));
    const submitted = await Promise.all(
      ['alpha', 'beta', 'alpha', 'beta'].map((label) => submit(`"${label}"`, { target: { label } })),
    );
    const done = await Promise.all(submitted.map((t) => ended(t.id)));
    for (const task of done) {
      expect(task.status).toBe('succeeded');
      expect(task.extensionId).toBe(task.result === 'alpha' ? alpha.id : beta.id);
    }
    expect(seen.alpha.sort()).toEqual(
      done
        .filter((t) => t.result === 'alpha')
        .map((t) => t.id)
        .sort(),
    );
    expect(seen.beta.sort()).toEqual(
      done
        .filter((t) => t.result === 'beta')
        .map((t) => t.id)
        .sort(),
    );
  });

  it('re-registers after losing its connection and keeps serving', async () => {
    const host = await startHost();
    const again = new Promise<boolean>((resolve) =>
      host.once('registered', (_r, reconnect) => resolve(reconnect)),
    );
    for (const socket of hub.hub.io.of('/extension').sockets.values()) socket.conn.close();
    expect(await again).toBe(true);
    const task = await ended((await submit('"still here"')).id);
    expect(task).toMatchObject({ status: 'succeeded', result: 'still here', extensionId: host.id });
  });

  it('finishes a job that was running across a reconnect, without running it twice', async () => {
    const host = await startHost();
    const runs: string[] = [];
    host.on('job', (job) => runs.push(job.taskId));
    const task = await submit('import time\nprint("a")\ntime.sleep(2)\nprint("b")\n"survived"');
    await taskWhere(task.id, (t) => t.status === 'running');
    const again = new Promise<void>((resolve) => host.once('registered', () => resolve()));
    for (const socket of hub.hub.io.of('/extension').sockets.values()) socket.conn.close();
    await again;
    const done = await ended(task.id);
    expect(done).toMatchObject({ status: 'succeeded', result: 'survived', extensionId: host.id });
    expect(runs).toEqual([task.id]);
  });

  it('heartbeats at the period the hub asks for', async () => {
    await hub.close();
    hub = await startTestHub({ heartbeatMs: 100 });
    const host = await startHost();
    const lastSeen = async () =>
      (await api<ExtensionInfo[]>('GET', '/api/v1/extensions')).body.find((e) => e.id === host.id)?.lastSeen;
    const first = await lastSeen();
    await waitFor(async () => ((await lastSeen()) !== first ? true : undefined), 'a heartbeat', 2_000);
  });

  it('runs from the command line and stops cleanly on SIGTERM', async () => {
    const args = ['extension-bridge/host/cli.ts', '--hub', hub.url, '--name', 'cli-host', '--labels', 'cli'];
    const configHome = mkdtempSync(join(tmpdir(), 'sb-ref-cli-'));
    const cli = spawn('node_modules/.bin/tsx', args, {
      // Its host secret goes under a scratch config dir, not the user's ~/.config.
      env: {
        ...process.env,
        SWITCHBOARD_EXTENSION_TOKEN: hub.tokens.extension,
        XDG_CONFIG_HOME: configHome,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    cli.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    const online = async () =>
      (await api<ExtensionInfo[]>('GET', '/api/v1/extensions')).body.find((e) => e.name === 'cli-host');
    await waitFor(online, 'the CLI host to register', 15_000);
    const task = await ended((await submit('"from cli"', { target: { label: 'cli' } })).id);
    expect(task).toMatchObject({ status: 'succeeded', result: 'from cli' });
    cli.kill('SIGTERM');
    const [code] = await once(cli, 'exit');
    expect(code).toBe(0);
    expect(log).toContain('registered as');
    expect(log).toContain('stopped');
    expect(existsSync(join(configHome, 'switchboard', 'hosts', 'cli-host.secret'))).toBe(true);
    expect(await online()).toBeUndefined();
  });
});
