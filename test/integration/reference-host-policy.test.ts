import { afterEach, describe, expect, it } from 'vitest';
import { HostPolicy, ReferenceHost, type ReferenceHostOptions } from '../../extension-bridge/host/index.js';
import { isTerminal, type Task } from '../../server/protocol/index.js';
import { http } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { ALLOWLIST_ONLY, ESCAPES, KIT_SCRIPTS } from '../helpers/policy-fixtures.js';

let hub: TestHub | undefined;
const hosts: ReferenceHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
  await hub?.close();
});

/** A hub that lets everything through (policy off), so only the host stands between the code and python3. */
async function setup(options: Partial<ReferenceHostOptions> = {}) {
  hub = await startTestHub({ policyMode: 'off' });
  const host = new ReferenceHost({ url: hub.url, token: hub.tokens.extension, name: 'ref', ...options });
  hosts.push(host);
  await host.start();
  const h = hub;
  return async (code: string): Promise<Task> => {
    const res = await http<Task>(h.url, h.tokens.operator, 'POST', '/api/v1/tasks', {
      code,
      timeoutMs: 30_000,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const end = Date.now() + 30_000;
    for (;;) {
      const { body } = await http<Task>(h.url, h.tokens.viewer, 'GET', `/api/v1/tasks/${res.body.id}`);
      if (isTerminal(body.status)) return body;
      if (Date.now() > end) throw new Error(`task ${res.body.id} did not end: ${body.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
}

describe('the reference host applies the policy again before running', () => {
  it('refuses the issue’s escapes that a permissive hub let through, and runs ordinary code', async () => {
    const run = await setup();
    const escapes = [
      ["open('/etc/passwd').read()", 'file:open'],
      ['import ｓubprocess', 'import:subprocess'],
      ['().__class__.__base__.__subclasses__()', 'reflection:__base__'],
      ["import operator, os\noperator.attrgetter('system')(os)('id')", 'dynamic:operator.attrgetter'],
      ["import sys\nsys.modules['o' + 's'].system('id')", 'dynamic:sys.modules'],
      ['breakpoint()', 'call:breakpoint'],
    ] as const;
    for (const [code, rule] of escapes) {
      const task = await run(code);
      expect(task.status, code).toBe('failed');
      expect(task.error?.message, code).toMatch(/refused by the host's safety policy/);
      expect(task.error?.message, code).toContain(`[${rule}] at line`);
    }
    const ok = await run('import math, json\nprint(json.dumps({"r": math.sqrt(16)}))\n42');
    expect(ok.status, JSON.stringify(ok.error)).toBe('succeeded');
    expect(ok.result).toBe(42);
  }, 90_000);

  it('in allowlist mode refuses modules off the list', async () => {
    const run = await setup({ policy: { mode: 'allowlist' } });
    const os = await run('import os\nos.getcwd()');
    expect(os.status).toBe('failed');
    expect(os.error?.message).toContain('[allowlist:import] at line 1, column 8');
    const math = await run('import math\nmath.floor(2.5)');
    expect(math.status, JSON.stringify(math.error)).toBe('succeeded');
  }, 60_000);

  it.each(['strict', 'allowlist'] as const)('in %s mode refuses the whole battery', async (mode) => {
    const policy = await HostPolicy.create({ mode });
    const refused = mode === 'allowlist' ? [...ESCAPES, ...ALLOWLIST_ONLY] : ESCAPES;
    for (const c of refused) {
      const { refusal } = policy.check(c.code);
      expect(refusal?.type, c.code).toBe('PolicyError');
      expect(refusal?.traceback, c.code).toContain(`line ${c.line}, column ${c.column}:`);
      expect(refusal?.traceback, c.code).toContain(`[${c.rule}]`);
    }
    for (const s of KIT_SCRIPTS) expect(policy.check(s.code), s.name).toEqual({ warnings: [] });
  });
});
