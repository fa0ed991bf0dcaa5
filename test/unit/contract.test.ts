import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../server/errors.js';
import { buildContract, CONTRACT_FILE } from '../../server/protocol/export-json-schema.js';
import {
  ErrorCode,
  EVENT_TYPES,
  ExtensionClientEvents,
  ExtensionServerEvents,
  MonitorClientEvents,
  MonitorServerEvents,
  TaskEvent,
} from '../../server/protocol/index.js';

describe('contract', () => {
  it('the committed JSON Schema file matches the zod contract', () => {
    expect(JSON.parse(readFileSync(CONTRACT_FILE, 'utf8'))).toEqual(
      JSON.parse(JSON.stringify(buildContract())),
    );
  });

  it('exports every socket event of both namespaces with its ack', () => {
    const c = buildContract();
    expect(Object.keys(c.namespaces['/monitor'].clientToServer)).toEqual(Object.keys(MonitorClientEvents));
    expect(Object.keys(c.namespaces['/monitor'].serverToClient)).toEqual(Object.keys(MonitorServerEvents));
    expect(Object.keys(c.namespaces['/extension'].clientToServer)).toEqual(
      Object.keys(ExtensionClientEvents),
    );
    expect(Object.keys(c.namespaces['/extension'].serverToClient)).toEqual(
      Object.keys(ExtensionServerEvents),
    );
    for (const spec of Object.values(c.namespaces['/monitor'].clientToServer))
      expect(spec).toHaveProperty('ack');
    expect(c.policyRules.length).toBeGreaterThan(5);
  });

  it('task events validate by type and reject unknown types', () => {
    expect(EVENT_TYPES).toContain('done');
    const ok = TaskEvent.safeParse({
      taskId: 't1',
      seq: 1,
      ts: new Date().toISOString(),
      type: 'output',
      data: { stream: 'stdout', text: 'hi' },
    });
    expect(ok.success).toBe(true);
    const wrong = TaskEvent.safeParse({
      taskId: 't1',
      seq: 1,
      ts: 'x',
      type: 'output',
      data: { stream: 'x', text: 1 },
    });
    expect(wrong.success).toBe(false);
    const unknown = TaskEvent.safeParse({ taskId: 't1', seq: 1, ts: 'x', type: 'nope', data: {} });
    expect(unknown.success).toBe(false);
  });

  it('the error catalogue covers every code, with 4xx/5xx statuses, and the README lists them', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const code of ErrorCode.options) {
      const entry = ERROR_CATALOGUE[code];
      expect(entry.status).toBeGreaterThanOrEqual(400);
      expect(entry.status).toBeLessThan(600);
      expect(readme).toContain(`| \`${code}\` | ${entry.status} |`);
    }
  });
});
