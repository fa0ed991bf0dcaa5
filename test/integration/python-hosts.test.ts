import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExecResult } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

const HOSTS = fileURLToPath(new URL('../helpers/py/hosts.py', import.meta.url));
let hub: TestHub;
const procs: ChildProcess[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) p.kill('SIGKILL');
  await hub?.close();
});

function pythonHost(kind: 'ws' | 'poll', name: string, label: string): Promise<void> {
  const proc = spawn('/usr/bin/python3', [HOSTS, kind, hub.url, hub.tokens.extension, name, label], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return until(() => out.includes('registered'), 10_000, `${kind} host to register: ${out}`).then(
    () => undefined,
  );
}

const JOBS = [
  {
    code: 'print("hello from python")\n6 * 7',
    status: 'succeeded',
    stdout: 'hello from python\n',
    result: 42,
  },
  { code: 'x = [1, 2]\nx[5]', status: 'failed', stdout: '', result: null },
];

describe('Python hosts on the raw WebSocket and the polling endpoints', () => {
  it('run the same jobs with the same outcomes', async () => {
    hub = await startTestHub();
    await pythonHost('ws', 'py-ws', 'ws');
    await pythonHost('poll', 'py-poll', 'poll');
    const exts = await http<Array<{ id: string; transport: string }>>(
      hub.url,
      hub.tokens.viewer,
      'GET',
      '/api/v1/extensions',
    );
    expect(exts.body.map((e) => e.transport).sort()).toEqual(['polling', 'ws']);
    for (const label of ['ws', 'poll']) {
      for (const job of JOBS) {
        const res = await http<ExecResult>(hub.url, hub.tokens.operator, 'POST', '/execute', {
          code: job.code,
          target: `label:${label}`,
          timeout: 10,
        });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ status: job.status, stdout: job.stdout, result: job.result });
        if (job.status === 'failed') {
          expect(res.body.error).toMatch(/IndexError: list index out of range/);
          expect(res.body.traceback).toMatch(/Traceback/);
        }
      }
    }
  });
});
