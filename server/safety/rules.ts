import { escapeRules } from './escape-rules.js';
import type { PolicyRule } from './types.js';

/**
 * The default rules as plain data: the hub applies them here and exports them as JSON so the Python bridge
 * can apply the same list. Call rules are enumerated rather than globbed so every violation id is a row.
 */

export const SIZE_RULE_ID = 'max_code_size';

/** Module -> why it is denied. */
export const DEFAULT_DENIED_MODULES: Readonly<Record<string, string>> = {
  subprocess: 'starts arbitrary processes',
  ctypes: 'calls native code and writes raw memory',
  socket: 'opens raw network connections',
  multiprocessing: 'starts processes outside the Kit event loop',
  pty: 'spawns processes on pseudo-terminals',
  builtins: 'reaches eval, exec and __import__ under other names',
  runpy: 'runs modules and files by name, past the import rules',
  code: 'runs an interpreter over strings the policy cannot read',
  pdb: 'stops Kit in a debugger that waits on a console nobody sees',
  cffi: 'calls native code',
  webbrowser: 'starts a browser process',
  doctest: 'runs code found in strings',
  pydoc: 'looks up any object by a dotted name',
  trace: 'runs code from strings',
  'concurrent.futures.process': 'starts processes outside the Kit event loop',
  zipimport: 'loads code from zip files, past the import rules',
  faulthandler: 'crashes the Kit process on purpose',
};

const PROCESS = 'runs a shell command or replaces or starts a process';
const UNPICKLE = 'runs whatever code the pickled data names';
/** Dotted callable -> why it is denied. */
export const DEFAULT_DENIED_CALLS: Readonly<Record<string, string>> = {
  'os.system': PROCESS,
  'os.popen': PROCESS,
  ...family('os.exec', ['l', 'le', 'lp', 'lpe', 'v', 've', 'vp', 'vpe'], PROCESS),
  ...family('os.spawn', ['l', 'le', 'lp', 'lpe', 'v', 've', 'vp', 'vpe'], PROCESS),
  'os.posix_spawn': PROCESS,
  'os.posix_spawnp': PROCESS,
  'os.startfile': 'opens or executes a file with its associated program',
  'os.fork': 'forks the Kit process',
  'os.forkpty': 'forks the Kit process',
  'os.kill': 'signals arbitrary processes',
  'os.killpg': 'signals arbitrary process groups',
  'shutil.rmtree': 'deletes whole directory trees',
  'asyncio.create_subprocess_exec': 'starts arbitrary processes',
  'asyncio.create_subprocess_shell': 'runs a shell command',
  breakpoint: 'stops Kit in a debugger that waits on a console nobody sees',
  ...family('pickle.', ['load', 'loads', 'Unpickler'], UNPICKLE),
  ...family('dill.', ['load', 'loads', 'Unpickler'], UNPICKLE),
  'shelve.open': UNPICKLE,
  'marshal.load': 'loads raw bytecode',
  'marshal.loads': 'loads raw bytecode',
  'sys._getframe': "reaches stack frames, and through them every caller's globals",
  ...family('gc.get_', ['objects', 'referrers', 'referents'], 'reaches any live object, past every rule'),
  'importlib.util.spec_from_file_location': 'loads a module from any file, past the import rules',
  'importlib.machinery.SourceFileLoader': 'loads a module from any file, past the import rules',
  ...family('timeit.', ['timeit', 'repeat', 'Timer'], 'runs code from strings'),
  ...family('cProfile.', ['run', 'runctx'], 'runs code from strings'),
  ...family('profile.', ['run', 'runctx'], 'runs code from strings'),
  'pkgutil.resolve_name': 'looks up any object by a dotted name',
  'concurrent.futures.ProcessPoolExecutor': 'starts processes outside the Kit event loop',
  'sys.breakpointhook': 'stops Kit in a debugger that waits on a console nobody sees',
  'uuid._get_command_stdout': PROCESS,
  'importlib.machinery.ExtensionFileLoader': 'loads native code from any file',
  'os._exit': 'ends the Kit process at once',
  'os.abort': 'ends the Kit process at once',
  'signal.raise_signal': 'signals the Kit process',
  'signal.pthread_kill': 'signals the Kit process',
};

/** Builtins that turn data into code or names into objects, which static checks cannot see through. */
const DYNAMIC = {
  eval: 'eval() of anything but a plain string literal',
  exec: 'exec() of anything but a plain string literal',
  compile: 'compile() of anything but a plain string literal',
  __import__: '__import__() of anything but a plain string literal',
  'importlib.import_module': 'importlib.import_module() of anything but a plain string literal',
  getattr: 'getattr() with a computed name on a denied module, or on the builtins at all,',
  setattr: 'setattr() with a computed name on a denied module, or on the builtins at all,',
  delattr: 'delattr() with a computed name on a denied module, or on the builtins at all,',
  vars: 'vars() of a denied module or the builtins',
  globals: 'globals(), locals() or vars() indexed with a dunder or computed key',
  __dict__: '__dict__ of a denied module or the builtins',
  __builtins__: 'indexing the builtins mapping',
  'sys.modules': 'sys.modules, which hands out any module by a computed name,',
  'operator.attrgetter': 'operator.attrgetter() of a computed, dunder or denied attribute name',
  'operator.methodcaller': 'operator.methodcaller() of a computed, dunder or denied method name',
} as const;

/**
 * Other spellings of the same capability, rewritten before matching: `posix.system` is `os.system`,
 * `_socket` is `socket`, `__builtins__.eval` is `eval`.
 */
export const MODULE_ALIASES: Readonly<Record<string, string>> = {
  posix: 'os',
  nt: 'os',
  _posixsubprocess: 'subprocess',
  _winapi: 'subprocess',
  _socket: 'socket',
  _ctypes: 'ctypes',
  _multiprocessing: 'multiprocessing',
  'asyncio.subprocess': 'asyncio',
  __builtins__: 'builtins',
  _pickle: 'pickle',
};

export type DynamicTarget = keyof typeof DYNAMIC;

export function dynamicRule(target: DynamicTarget): PolicyRule {
  return {
    id: `dynamic:${target}`,
    kind: 'dynamic',
    target,
    description: `${DYNAMIC[target]} reaches code that cannot be checked.`,
  };
}

export const DEFAULT_RULES: ReadonlyArray<PolicyRule> = deepFreeze([
  {
    id: SIZE_RULE_ID,
    kind: 'size',
    target: 'maxCodeBytes',
    description: 'code longer than maxCodeBytes UTF-8 bytes is refused in every mode.',
  },
  ...Object.entries(DEFAULT_DENIED_MODULES).map(([module, why]) => importRule(module, why)),
  ...Object.entries(DEFAULT_DENIED_CALLS).map(([target, why]) => callRule(target, why)),
  ...Object.entries(DEFAULT_DENIED_CALLS).map(([target, why]) => attributeRule(target, why)),
  ...Object.entries(DEFAULT_DENIED_CALLS).map(([target, why]) => getattrRule(target, why)),
  ...(Object.keys(DYNAMIC) as DynamicTarget[]).map(dynamicRule),
  ...escapeRules(guardedModulesOf(Object.keys(DEFAULT_DENIED_CALLS))),
]);

/**
 * Modules that hold a denied call (`os` for `os.system`) or reach everything (builtins, importlib, sys):
 * handed around as values (`f(os)`, `[os]`, `lambda: os`) they leave the resolver's sight.
 */
export function guardedModulesOf(calls: Iterable<string>): string[] {
  const modules = new Set(['builtins', 'importlib', 'sys']);
  for (const call of calls) {
    const dot = call.lastIndexOf('.');
    if (dot > 0) modules.add(call.slice(0, dot));
  }
  return [...modules].sort();
}

export function importRule(module: string, why = 'is denied by configuration'): PolicyRule {
  return { id: `import:${module}`, kind: 'import', target: module, description: `${module} ${why}.` };
}

export function callRule(target: string, why = 'is denied by configuration'): PolicyRule {
  return { id: `call:${target}`, kind: 'call', target, description: `${target}() ${why}.` };
}

/** Reference forms share their call rule's reason: holding the function is as good as calling it. */
export function attributeRule(target: string, why = 'is denied by configuration'): PolicyRule {
  return {
    id: `attribute:${target}`,
    kind: 'attribute',
    target,
    description: `holding ${target} lets it be called under another name; ${target}() ${why}.`,
  };
}

export function getattrRule(target: string, why = 'is denied by configuration'): PolicyRule {
  return {
    id: `getattr:${target}`,
    kind: 'attribute',
    target,
    description: `getattr() with a literal name reaches ${target}; ${target}() ${why}.`,
  };
}

function deepFreeze(rules: PolicyRule[]): ReadonlyArray<PolicyRule> {
  return Object.freeze(rules.map((rule) => Object.freeze(rule)));
}

function family(prefix: string, suffixes: string[], why: string): Record<string, string> {
  return Object.fromEntries(suffixes.map((s) => [prefix + s, why]));
}
