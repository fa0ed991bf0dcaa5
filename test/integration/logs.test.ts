import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { buildHub, type Hub } from '../../server/app.js';
import { createLogger } from '../../server/log.js';
import type { Task } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { ScriptedExtension, scriptedExtension } from '../helpers/scripted-extension.js';

let hub: Hub | undefined;
let dir = '';
afterEach(async () => {
  await hub?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function runOneTask(level: 'info' | 'debug') {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  dir = mkdtempSync(join(tmpdir(), 'sb-logs-'));
  hub = await buildHub({ port: 0, dataDir: dir, logLevel: level }, { logger: createLogger(level, sink) });
  const url = await hub.listen();
  const { tokens } = hub.ctx.auth;
  const ext = await scriptedExtension(url, tokens.extension, { name: 'kit' });
  const code = "print('BODY-OF-THE-CODE-0123456789')";
  const task = (
    await http<Task>(url, tokens.operator, 'POST', '/api/v1/tasks', { code, traceId: 'trace-abc' })
  ).body;
  await until(
    async () =>
      (await http<Task>(url, tokens.viewer, 'GET', `/api/v1/tasks/${task.id}`)).body.status === 'succeeded',
  );
  await http(url, 'not-a-valid-token-at-all', 'GET', '/api/v1/tasks');
  ext.close();
  await new Promise((r) => setTimeout(r, 50));

  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const transitions = parsed.filter((l) => l['taskId'] === task.id && typeof l['status'] === 'string');
  for (const l of transitions) expect(l['traceId']).toBe('trace-abc');
  const all = lines.join('\n');
  for (const secret of Object.values(tokens)) expect(all).not.toContain(secret);
  const hostSecret = ScriptedExtension.secrets.get('kit');
  expect(hostSecret).toMatch(/^shs_/);
  expect(all).not.toContain(hostSecret);
  expect(all).not.toContain('BODY-OF-THE-CODE');
  expect(all).not.toContain('not-a-valid-token-at-all');
  return transitions;
}

describe('logs', () => {
  it('at info: one line per task, when it ends, with task and trace ids and its duration', async () => {
    const transitions = await runOneTask('info');
    expect(transitions.map((l) => l['status'])).toEqual(['succeeded']);
    expect(typeof transitions[0]?.['durationMs']).toBe('number');
  });

  it('at debug: one line per transition, and never a token or code body', async () => {
    const transitions = await runOneTask('debug');
    expect(transitions.map((l) => l['status'])).toEqual(['queued', 'dispatched', 'running', 'succeeded']);
  });
});
