import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody, Task } from '../../server/protocol/index.js';
import { http } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { ALLOWLIST_ONLY, ESCAPES, KIT_SCRIPTS, type PolicyCase } from '../helpers/policy-fixtures.js';

type Found = Array<{ rule: string; line: number; column: number }>;

const label = (c: PolicyCase) => `${c.rule}: ${JSON.stringify(c.code)}`;

describe.each(['strict', 'allowlist'] as const)('the hub in %s mode', (mode) => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ policyMode: mode, rateLimitPerMinute: 0 });
  });
  afterAll(() => hub.close());

  const submit = (code: string) =>
    http<{ error: ErrorBody } & Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code });

  it('has a battery of at least 60 escape attempts', () => {
    expect(ESCAPES.length).toBeGreaterThanOrEqual(60);
  });

  it.each(ESCAPES.map((c) => [label(c), c] as const))('refuses %s', async (_name, c) => {
    const res = await submit(c.code);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('policy_denied');
    const found = (res.body.error.details as Found).map((v) => [v.rule, v.line, v.column]);
    expect(found).toContainEqual([c.rule, c.line, c.column]);
  });

  it.each(KIT_SCRIPTS.map((s) => [s.name, s] as const))('accepts the Kit script: %s', async (_name, s) => {
    const res = await submit(s.code);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });

  it.each(ALLOWLIST_ONLY.map((c) => [label(c), c] as const))(
    mode === 'allowlist' ? 'refuses %s' : 'lets through %s',
    async (_name, c) => {
      const res = await submit(c.code);
      if (mode === 'strict') {
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        return;
      }
      expect(res.status).toBe(422);
      const found = (res.body.error.details as Found).map((v) => [v.rule, v.line, v.column]);
      expect(found).toContainEqual([c.rule, c.line, c.column]);
    },
  );
});

describe('allowlist configuration', () => {
  it('takes extra modules from SWITCHBOARD_POLICY_ALLOW_MODULES', async () => {
    await using hub = await startTestHub({ policyMode: 'allowlist', policyAllowModules: ['requests'] });
    const res = await http(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
      code: 'import requests',
    });
    expect(res.status).toBe(201);
    const os = await http(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'import os' });
    expect(os.status).toBe(422);
  });
});
