import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createPolicy, type PolicyMode } from '../../server/safety/index.js';
import { ALLOWLIST_ONLY, ESCAPES, KIT_SCRIPTS } from '../helpers/policy-fixtures.js';
import { BRIDGE_DIR, PYTHON } from '../helpers/python-bridge.js';

/** Runs a Python command in the extension's folder; resolves with its exit code and output. */
function python(
  args: string[],
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, {
      cwd: BRIDGE_DIR,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      stdout += t;
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('the Python bridge on its own', () => {
  it('passes its unittest suite (runner, policy, capture, Kit stand-in)', async () => {
    const { code, stderr } = await python(['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.']);
    expect(stderr, stderr).toMatch(/^OK$/m);
    expect(code).toBe(0);
  }, 120_000);

  it("passes its omni.kit.test tests (Kit's [[test]]) under the Kit stand-in", async () => {
    // Kit's test runner loads switchboard.bridge.tests; here the stand-in's omni.kit.test runs them.
    const run = [
      'import sys, unittest',
      'sys.path[:0] = ["tests/kit_standin", "."]',
      'unittest.main(module="switchboard.bridge.tests", argv=["kit-tests", "-v"])',
    ].join('\n');
    const { code, stderr } = await python(['-c', run]);
    expect(stderr, stderr).toMatch(/^OK$/m);
    expect(Number(/^Ran (\d+) tests/m.exec(stderr)?.[1])).toBeGreaterThanOrEqual(12);
    expect(stderr).toContain('test_enable_disable_reenable_leaves_nothing_behind');
    expect(code).toBe(0);
  }, 120_000);

  it('refuses the same code as the hub, with the same rule, line and column', async () => {
    const corpus = [
      'import subprocess',
      'from subprocess import run as r',
      'import os.path, ctypes.util',
      'import os\nos.system("ls")',
      'from os import system as s\ns("x")',
      'import os\nf = os.system',
      'import os as o\nrun = o\nrun.kill(1, 9)',
      'import posix\nposix.system("x")',
      'from os import *\nsystem(1)',
      'eval(x)',
      'exec("import socket")',
      'eval("eval(\'__import__(\\"pty\\")\')")',
      'import os\ngetattr(os, "sys" + "tem")',
      'import os\ngetattr(os, "system")("ls")',
      'globals()["__builtins__"]',
      'g = globals()\ng[name]',
      '__builtins__["eval"]',
      'import sys\nsys.modules["socket"]',
      'import importlib\nimportlib.import_module(name)',
      '__import__("multiprocessing")',
      'import os\nos.__dict__',
      'vars(__builtins__)',
      'é = 1; import pty',
      'import shutil\nmap(shutil.rmtree, dirs)',
      'def f(a=__import__("os").fork):\n    pass',
      'import asyncio\nawait asyncio.create_subprocess_shell("ls")',
      'x = (y := eval)',
      'import os, json\nprint(os.path.join("a", "b"), json.dumps(1))',
    ];
    const hub = await createPolicy({
      mode: 'strict',
      maxCodeBytes: 262_144,
      denyImports: [],
      denyCalls: [],
      allow: [],
    });
    const expected = corpus.map((code) => hub.check(code).violations.map((v) => [v.rule, v.line, v.column]));
    const script = [
      'import json, sys',
      'from switchboard.bridge.policy import Policy',
      'policy = Policy()',
      'out = [[[v.rule, v.line, v.column] for v in policy.check(c).violations] for c in json.load(sys.stdin)]',
      'print(json.dumps(out))',
    ].join('\n');
    const { code, stdout, stderr } = await python(['-c', script], JSON.stringify(corpus));
    expect(code, stderr).toBe(0);
    const actual = JSON.parse(stdout) as unknown[];
    corpus.forEach((source, i) => {
      expect(actual[i], source).toEqual(expected[i]);
    });
  });

  /** What the bridge's policy.py reports for each snippet: [[rule, line, column], ...] and whether it refused. */
  async function bridgeVerdicts(mode: PolicyMode, corpus: string[]) {
    const script = [
      'import json, sys',
      'from switchboard.bridge.policy import Policy',
      `policy = Policy(mode=${JSON.stringify(mode)})`,
      'out = []',
      'for c in json.load(sys.stdin):',
      '    v = policy.check(c)',
      '    out.append({"refused": v.refused, "found": [[x.rule, x.line, x.column] for x in v.violations]})',
      'print(json.dumps(out))',
    ].join('\n');
    const { code, stdout, stderr } = await python(['-c', script], JSON.stringify(corpus));
    expect(code, stderr).toBe(0);
    return JSON.parse(stdout) as Array<{ refused: boolean; found: Array<[string, number, number]> }>;
  }

  it.each(['strict', 'allowlist'] as const)(
    'in %s mode refuses every escape in the battery, as the hub does, and passes the Kit scripts',
    async (mode) => {
      const hub = await createPolicy({
        mode,
        maxCodeBytes: 262_144,
        denyImports: [],
        denyCalls: [],
        allow: [],
      });
      const refused = mode === 'allowlist' ? [...ESCAPES, ...ALLOWLIST_ONLY] : ESCAPES;
      const corpus = [...refused.map((c) => c.code), ...KIT_SCRIPTS.map((s) => s.code)];
      const verdicts = await bridgeVerdicts(mode, corpus);
      refused.forEach((c, i) => {
        const verdict = verdicts[i];
        expect(verdict?.refused, c.code).toBe(true);
        expect(verdict?.found, c.code).toContainEqual([c.rule, c.line, c.column]);
        // The same rules at the same places as the hub, not only the one the battery names.
        const expected = hub.check(c.code).violations.map((v) => [v.rule, v.line, v.column]);
        expect(verdict?.found, c.code).toEqual(expected);
      });
      KIT_SCRIPTS.forEach((s, i) => {
        expect(verdicts[refused.length + i], s.name).toEqual({ refused: false, found: [] });
      });
    },
  );
});
