import { describe, expect, it } from 'vitest';
import {
  type CodePolicy,
  createPolicy,
  DEFAULT_RULES,
  type PolicyOptions,
} from '../../server/safety/index.js';
import { loadPython } from '../../server/safety/parser.js';
import { VERDICT_CACHE_SIZE } from '../../server/safety/verdict-cache.js';

const options = (overrides: Partial<PolicyOptions> = {}): PolicyOptions => ({
  mode: 'strict',
  maxCodeBytes: 64 * 1024,
  denyImports: [],
  denyCalls: [],
  allow: [],
  ...overrides,
});

const strict = await createPolicy(options());

/** [rule, line, column] per violation: compact enough to read a whole battery at a glance. */
function found(policy: CodePolicy, code: string): Array<[string, number, number]> {
  return policy.check(code).violations.map((v) => [v.rule, v.line, v.column]);
}

// [description, code, rule, line, column]
const DENIED: Array<[string, string, string, number, number]> = [
  ['import', 'import subprocess', 'import:subprocess', 1, 8],
  ['dotted import', 'import json\nimport ctypes.util', 'import:ctypes', 2, 8],
  ['aliased import', 'import socket as s', 'import:socket', 1, 8],
  ['import in a list', 'import math, multiprocessing', 'import:multiprocessing', 1, 14],
  ['from import', 'from pty import spawn', 'import:pty', 1, 6],
  ['from submodule import', 'from multiprocessing.pool import Pool', 'import:multiprocessing', 1, 6],
  ['nested import', 'def f():\n    import subprocess', 'import:subprocess', 2, 12],
  ['private twin module', 'import _socket', 'import:socket', 1, 8],
  ['__import__ literal', "m = __import__('subprocess')", 'import:subprocess', 1, 5],
  ['import_module literal', "import importlib\nimportlib.import_module('ctypes')", 'import:ctypes', 2, 1],
  ['sys.modules lookup', "import sys\nsys.modules['subprocess'].run('ls')", 'import:subprocess', 2, 1],
  ['os.system', "import os\nos.system('ls')", 'call:os.system', 2, 1],
  ['os.popen', "import os\n\nx = os.popen('ls').read()", 'call:os.popen', 3, 5],
  ['module alias', "import os as o\no.system('ls')", 'call:os.system', 2, 1],
  ['name alias', "from os import system as s\ns('ls')", 'call:os.system', 2, 1],
  ['star import', "from os import *\nsystem('ls')", 'call:os.system', 2, 1],
  ['exec family', "import os\nos.execvp('sh', ['sh'])", 'call:os.execvp', 2, 1],
  ['spawn family', "import os\nos.spawnl(os.P_WAIT, '/bin/sh')", 'call:os.spawnl', 2, 1],
  ['fork', 'import os\nif True:\n    pid = os.fork()', 'call:os.fork', 3, 11],
  ['kill', 'import os\nos.kill(1, 9)', 'call:os.kill', 2, 1],
  ['rmtree', "import shutil\nshutil.rmtree('/')", 'call:shutil.rmtree', 2, 1],
  ['rmtree by name', "from shutil import rmtree\nrmtree('/')", 'call:shutil.rmtree', 2, 1],
  ['os twin module', "import posix\nposix.system('ls')", 'call:os.system', 2, 1],
  [
    'asyncio subprocess',
    "await asyncio.create_subprocess_shell('ls')",
    'call:asyncio.create_subprocess_shell',
    1,
    7,
  ],
  ['rebound module', "import os\nrunner = os\nrunner.system('ls')", 'call:os.system', 3, 1],
  ['__import__ chain', "__import__('os').system('ls')", 'call:os.system', 1, 1],
  ['reference', 'import os\nf = os.system', 'attribute:os.system', 2, 5],
  ['reference as argument', 'threading.Thread(target=os.popen)', 'attribute:os.popen', 1, 25],
  ['star reference', 'from os import *\ncallbacks = [kill]', 'attribute:os.kill', 2, 14],
  ['eval of a name', 'eval(expr)', 'dynamic:eval', 1, 1],
  ['exec of an f-string', "exec(f'x = {y}')", 'dynamic:exec', 1, 1],
  ['eval of a concatenation', "eval('1' + '+1')", 'dynamic:eval', 1, 1],
  ['eval of implicit concatenation', "eval('1' '+1')", 'dynamic:eval', 1, 1],
  ['compile of a name', "code = compile(src, 'x', 'exec')", 'dynamic:compile', 1, 8],
  ['__import__ of a name', '__import__(name)', 'dynamic:__import__', 1, 1],
  [
    'import_module of a name',
    'import importlib\nimportlib.import_module(n)',
    'dynamic:importlib.import_module',
    2,
    1,
  ],
  ['eval passed around', 'results = map(eval, lines)', 'dynamic:eval', 1, 15],
  ['literal hiding an import', "exec('import subprocess')", 'import:subprocess', 1, 6],
  ['literal hiding a call', "eval(\"__import__('os').system('ls')\")", 'call:os.system', 1, 6],
  ['getattr literal', "import os\ngetattr(os, 'system')", 'getattr:os.system', 2, 1],
  ['getattr through alias', "import os as o\nrun = getattr(o, 'execv')", 'getattr:os.execv', 2, 7],
  ['getattr concatenation', "import os\ngetattr(os, 'sys' + 'tem')", 'dynamic:getattr', 2, 1],
  ['getattr on builtins', "getattr(__builtins__, 'eval')", 'dynamic:getattr', 1, 1],
  ['setattr computed', 'import os\nsetattr(os, name, None)', 'dynamic:setattr', 2, 1],
  ['delattr computed', 'import shutil\ndelattr(shutil, name)', 'dynamic:delattr', 2, 1],
  ['aliased getattr', 'g = getattr\ng(os, name)', 'dynamic:getattr', 2, 1],
  ['globals builtins', "globals()['__builtins__']", 'dynamic:globals', 1, 1],
  ['locals computed', 'x = locals()[key]', 'dynamic:globals', 1, 5],
  ['globals get', 'fn = globals().get(name)', 'dynamic:globals', 1, 6],
  ['vars of a module', 'import os\nvars(os)', 'dynamic:vars', 2, 1],
  ['module __dict__', "import os\nos.__dict__['system']('ls')", 'dynamic:__dict__', 2, 1],
  ['builtins __dict__', '__builtins__.__dict__', 'dynamic:__dict__', 1, 1],
  ['builtins indexed', "__builtins__['eval']('1')", 'dynamic:__builtins__', 1, 1],
  ['builtins module', 'import builtins\nbuiltins.exec(code)', 'dynamic:exec', 2, 1],
  ['getattr with unpacked arguments', 'getattr(*parts)', 'dynamic:getattr', 1, 1],
  ['escaped literal', "__import__('sub\\x70rocess')", 'import:subprocess', 1, 1],
  ['f-string interpolation', 'print(f"{os.system(\'ls\')}")', 'call:os.system', 1, 10],
  ['decorator', '@os.system\ndef f(): ...', 'attribute:os.system', 1, 2],
  [
    'parenthesized from import',
    "from os import (\n    path,\n    system as run,\n)\nrun('ls')",
    'call:os.system',
    5,
    1,
  ],
  [
    'alias made in another function',
    'import os\ndef f():\n    o = os\ndef g():\n    o.system("x")',
    'call:os.system',
    5,
    5,
  ],
  [
    'asyncio.subprocess spelling',
    "from asyncio.subprocess import create_subprocess_exec\nawait create_subprocess_exec('ls')",
    'call:asyncio.create_subprocess_exec',
    2,
    7,
  ],
];

describe('denied code', () => {
  it.each(DENIED)('%s', (_name, code, rule, line, column) => {
    const verdict = strict.check(code);
    expect(verdict.allowed).toBe(false);
    // Escapes often break several rules at once (`__builtins__['eval']` is a dunder and an index).
    expect(found(strict, code)).toContainEqual([rule, line, column]);
    expect(verdict.violations[0]?.message).toMatch(/not allowed/);
  });

  it('names what the user wrote and the rule it matched', () => {
    const [violation] = strict.check("from os import system as s\ns('ls')").violations;
    expect(violation?.message).toBe(
      'Calling s(), which is os.system(), is not allowed: it runs a shell command or replaces or starts a process.',
    );
  });

  it('reports every violation in source order', () => {
    const code = "import subprocess\nimport os\nos.system('a')\neval(x)";
    expect(found(strict, code)).toEqual([
      ['import:subprocess', 1, 8],
      ['call:os.system', 3, 1],
      ['dynamic:eval', 4, 1],
    ]);
  });

  it('counts columns in UTF-16 units, like JS strings', () => {
    expect(found(strict, "label = 'héllo'; import socket")).toEqual([['import:socket', 1, 25]]);
  });

  it('stays within the stack on deeply nested input', () => {
    const parens = `x = ${'('.repeat(3000)}1${')'.repeat(3000)}`;
    const chain = `y = os.system${'.a'.repeat(20000)}`;
    expect(found(strict, `${parens}\n${chain}`)).toEqual([['attribute:os.system', 2, 5]]);
  });

  it('follows eval literals three strings deep, and refuses deeper', () => {
    const nest = (code: string) => `eval(${JSON.stringify(code)})`;
    expect(found(strict, nest(nest(nest("__import__('pty')"))))).toEqual([['import:pty', 1, 6]]);
    expect(strict.check(nest(nest(nest('1')))).allowed).toBe(true);
    expect(found(strict, nest(nest(nest(nest('1')))))).toEqual([['dynamic:eval', 1, 6]]);
  });
});

const KIT_SNIPPETS: Array<[string, string]> = [
  ['pxr imports', 'from pxr import Usd, UsdGeom, Sdf, Gf'],
  ['omni.usd stage', 'import omni.usd\nstage = omni.usd.get_context().get_stage()'],
  ['stdlib imports', 'import math, json, asyncio, carb'],
  ['top-level await', 'import asyncio\nawait asyncio.sleep(0.1)'],
  ['os.path and environ', "import os\np = os.path.join('a', 'b')\nhome = os.environ.get('X')"],
  ['print', "print('hello', 1 + 2)"],
  ['literal eval', "eval('1+1')"],
  ['literal exec', "exec('x = 1')"],
  ['pickle', 'import pickle\ndata = pickle.dumps({})'],
  ['getattr on an ordinary object', "value = getattr(prim, 'GetPath')()\nname = getattr(self, attr, None)"],
  [
    'methods that share denied names',
    'class Job:\n    def kill(self):\n        self.kill()\n    def system(self): ...',
  ],
  ['relative import', 'from . import helpers'],
  ['feature detection', "import os\nif hasattr(os, 'fork'):\n    pass"],
  ['methods named like builtins', "import re\npattern = re.compile(r'\\d+')\nmodel.eval()\ncursor.exec(q)"],
  [
    'a realistic Kit script',
    [
      'import omni.usd',
      'import omni.kit.commands',
      'from pxr import Usd, UsdGeom, Sdf, Gf',
      '',
      'stage = omni.usd.get_context().get_stage()',
      "root = stage.GetPrimAtPath('/World')",
      '',
      'class Spinner:',
      '    def __init__(self, speed: float = 1.0):',
      '        self.speed = speed',
      '',
      '    async def run(self, prims):',
      '        for i, prim in enumerate(prims):',
      '            xform = UsdGeom.Xformable(prim)',
      '            xform.AddRotateYOp().Set(i * self.speed)',
      '            await asyncio.sleep(0)',
      '',
      'paths = [p.GetPath() for p in root.GetChildren() if p.IsA(UsdGeom.Mesh)]',
      'lookup = {str(p): i for i, p in enumerate(paths)}',
      "omni.kit.commands.execute('CreatePrim', prim_type='Cube')",
      'try:',
      '    await Spinner(2.0).run(root.GetChildren())',
      'except Exception as e:',
      "    carb.log_error(f'spin failed: {e}')",
      'with open(path) as fh:',
      '    config = json.load(fh)',
      '(n := len(paths))',
      'lambda x, y=2: x * y',
    ].join('\n'),
  ],
];

describe('accepted Kit code', () => {
  it.each(KIT_SNIPPETS)('%s', (_name, code) => {
    expect(strict.check(code)).toEqual({ allowed: true, violations: [] });
  });

  it('does not refuse syntax errors, but still checks what parses', () => {
    expect(strict.check('def broken(:\n    pass\nx = (1,')).toEqual({ allowed: true, violations: [] });
    expect(found(strict, 'def broken(:\n    pass\nimport subprocess')).toEqual([['import:subprocess', 3, 8]]);
  });
});

describe('modes', () => {
  const code = "import subprocess\nsubprocess.run('ls')";

  it('permissive lets code through but lists what strict would refuse', async () => {
    const permissive = await createPolicy(options({ mode: 'permissive' }));
    expect(permissive.mode).toBe('permissive');
    const verdict = permissive.check(code);
    expect(verdict.allowed).toBe(true);
    expect(verdict.violations.map((v) => v.rule)).toEqual(['import:subprocess']);
  });

  it('off skips analysis entirely', async () => {
    const off = await createPolicy(options({ mode: 'off' }));
    expect(off.mode).toBe('off');
    expect(off.check(code)).toEqual({ allowed: true, violations: [] });
  });

  it.each(['strict', 'permissive', 'off'] as const)(
    '%s enforces the size limit in UTF-8 bytes',
    async (mode) => {
      const policy = await createPolicy(options({ mode, maxCodeBytes: 8, allow: ['max_code_size'] }));
      expect(policy.check('x = 1234').allowed).toBe(true);
      const verdict = policy.check("s = 'é'"); // 7 characters, 8 bytes: fits exactly
      expect(verdict.allowed).toBe(true);
      const over = policy.check("s = 'éé'");
      expect(over.allowed).toBe(false);
      expect(over.violations).toEqual([
        { rule: 'max_code_size', message: 'The code is 10 bytes; the limit is 8.', line: 1, column: 1 },
      ]);
    },
  );
});

describe('configuration', () => {
  it('refuses a size limit that could never trigger', async () => {
    await expect(createPolicy(options({ maxCodeBytes: Number.NaN }))).rejects.toThrow(RangeError);
  });

  it('adds denied imports', async () => {
    const policy = await createPolicy(options({ denyImports: ['requests', ' urllib.request '] }));
    expect(found(policy, 'import requests.adapters')).toEqual([['import:requests', 1, 8]]);
    expect(found(policy, 'from urllib.request import urlopen')).toEqual([['import:urllib.request', 1, 6]]);
    expect(found(policy, 'from urllib import request')).toEqual([['import:urllib.request', 1, 20]]);
    expect(found(policy, 'import urllib.parse')).toEqual([]);
  });

  it('adds denied calls, bare builtins and families', async () => {
    const policy = await createPolicy(options({ denyCalls: ['open', 'os.remove', 'shutil.copy*'] }));
    expect(found(policy, "open('f')")).toEqual([['call:open', 1, 1]]);
    expect(found(policy, "from os import remove as rm\nrm('f')")).toEqual([['call:os.remove', 2, 1]]);
    expect(found(policy, "shutil.copyfile('a', 'b')")).toEqual([['call:shutil.copyfile', 1, 1]]);
    expect(found(policy, 'cleanup = os.remove')).toEqual([['attribute:os.remove', 1, 11]]);
    expect(policy.check("strict.check('x')").violations).toEqual([]);
  });

  it('lifts a call rule, with the ways of holding that function', async () => {
    const policy = await createPolicy(options({ allow: ['call:os.system'] }));
    expect(policy.check("import os\nos.system('ls')\nf = os.system\ngetattr(os, 'system')").allowed).toBe(
      true,
    );
    expect(found(policy, "os.popen('ls')")).toEqual([['call:os.popen', 1, 1]]);
  });

  it('lifts rules by prefix', async () => {
    const policy = await createPolicy(options({ allow: ['import:socket', 'dynamic', 'alias'] }));
    expect(policy.check('import socket\neval(x)\nvars(os)').allowed).toBe(true);
    expect(found(policy, 'import subprocess')).toEqual([['import:subprocess', 1, 8]]);
  });
});

describe('verdict cache', () => {
  it('gives code seen before the verdict this policy reached for it, refusals included', () => {
    const code = "import os\nos.system('ls')";
    const first = strict.check(code);
    expect(first.allowed).toBe(false);
    expect(strict.check(code)).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.violations[0])).toBe(true);
    expect(strict.check(`${code}\n`)).not.toBe(first);
    // Long code is kept by its hash.
    const long = `${'# padding\n'.repeat(200)}${code}`;
    const longVerdict = strict.check(long);
    expect(longVerdict).toMatchObject({
      allowed: false,
      violations: [{ rule: 'call:os.system', line: 202 }],
    });
    expect(strict.check(long)).toBe(longVerdict);
    expect(strict.check(`${long} `)).not.toBe(longVerdict);
  });

  it('keys verdicts by policy version: other options never get this policy verdict', async () => {
    const lifted = await createPolicy(options({ allow: ['call:os.system'] }));
    const permissive = await createPolicy(options({ mode: 'permissive' }));
    const again = await createPolicy(options());
    expect(new Set([strict.version, lifted.version, permissive.version]).size).toBe(3);
    expect(again.version).toBe(strict.version);
    const code = "import os\nos.system('x')";
    expect(strict.check(code).allowed).toBe(false);
    expect(lifted.check(code).allowed).toBe(true);
    expect(permissive.check(code)).toMatchObject({ allowed: true, violations: [{ rule: 'call:os.system' }] });
  });

  it('forgets the least recently used verdict past its size, and judges that code again', async () => {
    const policy = await createPolicy(options());
    const kept = policy.check('print("kept")');
    const dropped = policy.check('print("dropped")');
    for (let i = 0; i < VERDICT_CACHE_SIZE - 1; i++) {
      policy.check(`print(${i})`);
      if (i % 100 === 0) expect(policy.check('print("kept")')).toBe(kept);
    }
    expect(policy.check('print("kept")')).toBe(kept);
    const judgedAgain = policy.check('print("dropped")');
    expect(judgedAgain).not.toBe(dropped);
    expect(judgedAgain).toEqual(dropped);
  });
});

describe('DEFAULT_RULES', () => {
  const ids = DEFAULT_RULES.map((r) => r.id);

  it('is frozen, plain JSON data with unique ids', () => {
    expect(Object.isFrozen(DEFAULT_RULES) && DEFAULT_RULES.every((r) => Object.isFrozen(r))).toBe(true);
    expect(JSON.parse(JSON.stringify(DEFAULT_RULES))).toEqual(DEFAULT_RULES);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has a row for every rule the default policy reports', () => {
    for (const [, code, rule] of DENIED) expect(ids, code).toContain(rule);
    expect(ids).toContain('max_code_size');
  });

  it('keeps pickle importable', () => {
    expect(ids).not.toContain('import:pickle');
  });
});

it('loads the grammar once per process', () => {
  expect(loadPython()).toBe(loadPython());
});
