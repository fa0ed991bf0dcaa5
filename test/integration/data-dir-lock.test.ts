import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildHub } from '../../server/app.js';
import type { Task, TaskEvent } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { gatedTask } from '../helpers/scripted-extension.js';

let hub: TestHub;
afterEach(async () => {
  await hub?.close();
});

const getTask = async (id: string) =>
  (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;

describe('one hub per data dir', () => {
  it('a second hub on the same data dir fails cleanly, naming the first one’s pid; the first one’s task loses nothing', {
    timeout: 60_000,
  }, async () => {
    hub = await startTestHub();
    const gated = await gatedTask(hub, 'steady');
    await until(async () => (await getTask(gated.taskId)).status === 'running', 10_000, 'task running');
    const before = (await getTask(gated.taskId)).lastSeq;

    // In this process (as a test or an embedding would) ...
    await expect(buildHub({ dataDir: hub.dataDir, port: 0, logLevel: 'silent' })).rejects.toThrow(
      `the data dir ${hub.dataDir} is in use by another hub (pid ${process.pid})`,
    );
    // ... and as a real second process on the same port: exit code 2, the pid named, nothing touched.
    const second = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      env: {
        ...process.env,
        SWITCHBOARD_DATA_DIR: hub.dataDir,
        PORT: new URL(hub.url).port,
        SWITCHBOARD_LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    second.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const [code] = await once(second, 'exit');
    expect(stderr).toContain(`is in use by another hub (pid ${process.pid})`);
    expect(code).toBe(2);

    expect(await getTask(gated.taskId)).toMatchObject({ status: 'running', attempts: 1, lastSeq: before });
    gated.release();
    await until(async () => (await getTask(gated.taskId)).status === 'succeeded', 10_000, 'task done');
    const events = await hub.hub.ctx.tasks.replay(gated.taskId, 0);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const outputs = events.flatMap((e: TaskEvent) => (e.type === 'output' ? [e.data.text] : []));
    expect(outputs).toEqual(['before\n', 'after\n']);
    const statuses = events.flatMap((e: TaskEvent) => (e.type === 'status' ? [e.data.reason] : []));
    expect(statuses).toEqual(['submitted', 'dispatched', 'started', 'completed']);
  });

  it('takes over a lock left by a process that is gone, and frees its own on close', async () => {
    hub = await startTestHub();
    const { dataDir } = hub;
    const port = Number(new URL(hub.url).port);
    await hub.stop();
    // A hub killed with -9 leaves its lock behind; pid 2^22+1 is above Linux's pid_max default, never alive.
    writeFileSync(join(dataDir, 'hub.lock'), JSON.stringify({ pid: 4_194_305, host: 'x', startedAt: '' }));
    // Another machine's lock is never taken over (its pid cannot be checked from here).
    await expect(buildHub({ dataDir, port: 0, logLevel: 'silent' })).rejects.toThrow(/pid 4194305/);
    writeFileSync(
      join(dataDir, 'hub.lock'),
      JSON.stringify({ pid: 4_194_305, host: hostname(), startedAt: '' }),
    );
    hub = await startTestHub({ dataDir, port });
    expect(JSON.parse(readFileSync(join(dataDir, 'hub.lock'), 'utf8')).pid).toBe(process.pid);
  });
});
