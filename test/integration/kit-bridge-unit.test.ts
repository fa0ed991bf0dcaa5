import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createPolicy } from '../../server/safety/index.js';
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
});
