import type { PolicyRule } from './types.js';

/**
 * Rule data for the known ways around an import and call deny-list: attributes only escapes use, modules
 * handed around where the resolver cannot follow them, files no Kit script needs, and the allowlist mode.
 * Exported with the other rules in the contract, so the bridge applies the same lists.
 */

const FRAME = "reaches a stack frame, and through it every caller's globals";
const CLASS_WALK = 'walks up to object, and from there to every class in the process';

/** Attributes whose only use in a pushed script is reaching what the rules deny. */
export const ESCAPE_ATTRIBUTES: Readonly<Record<string, string>> = {
  __subclasses__: 'lists every class in the process, the usual first step out of a restricted namespace',
  __globals__: "reaches a function's module globals and their builtins",
  __builtins__: 'reaches eval, exec and __import__',
  __code__: "reads or replaces a function's bytecode",
  __closure__: "reads a function's captured variables",
  __mro__: CLASS_WALK,
  __bases__: CLASS_WALK,
  __base__: CLASS_WALK,
  __getattribute__: 'reaches any attribute by a computed name',
  __import__: 'imports any module by name',
  __loader__: 'loads modules past the import rules',
  __spec__: 'loads modules past the import rules',
  __self__: 'reaches the module behind a builtin function',
  gi_frame: FRAME,
  cr_frame: FRAME,
  ag_frame: FRAME,
  tb_frame: FRAME,
  f_globals: FRAME,
  f_locals: FRAME,
  f_builtins: FRAME,
  subprocess_exec: 'starts a process from the event loop',
  subprocess_shell: 'runs a shell command from the event loop',
  ctypeslib: 'reaches ctypes, which calls native code',
};

/**
 * Modules other modules hold as attributes (`logging.os`, `random._os`, `os.sys`): an attribute of this name,
 * with or without leading underscores, is taken to be the module. Common attribute words (`code`, `socket`,
 * `profile`, `trace`) are left out: `self.socket` is usually a connection.
 */
export const MODULE_ATTRIBUTES: readonly string[] = [
  'os',
  'sys',
  'subprocess',
  'builtins',
  'shutil',
  'importlib',
  'ctypes',
  'multiprocessing',
  'pty',
  'pickle',
  'marshal',
  'runpy',
  'gc',
  'asyncio',
];

/** Of those, the ones that are also global names in every module (`__loader__.load_module('os')`). */
export const ESCAPE_NAMES: readonly string[] = ['__builtins__', '__loader__', '__spec__'];

/** Where `open()` of a literal path is refused in strict mode: system files, keys and credentials. */
export const PROTECTED_PATHS: readonly string[] = [
  '/etc',
  '/proc',
  '/sys',
  '/dev',
  '/root',
  '/boot',
  'c:/windows',
];
/** Path segments refused wherever they appear: climbing out, and the usual homes of credentials. */
export const PROTECTED_SEGMENTS: readonly string[] = ['..', '.ssh', '.aws', '.gnupg', '.kube', '.docker'];
/** Callables that open a path given as their first argument. */
export const FILE_OPENERS: readonly string[] = [
  'open',
  'io.open',
  'os.open',
  'codecs.open',
  'pathlib.Path',
  'pathlib.PurePath',
];

/** `allowlist` mode's default modules: what Kit scripts and LLM-written Kit code use. */
export const DEFAULT_ALLOWED_MODULES: readonly string[] = [
  '__future__',
  'omni',
  'pxr',
  'carb',
  'usdrt',
  'warp',
  'numpy',
  'math',
  'cmath',
  'json',
  're',
  'time',
  'datetime',
  'random',
  'itertools',
  'functools',
  'collections',
  'typing',
  'dataclasses',
  'asyncio',
  'enum',
  'copy',
  'string',
  'textwrap',
  'statistics',
  'decimal',
  'fractions',
  'numbers',
  'operator',
  'uuid',
  'bisect',
  'heapq',
  'array',
  'abc',
  'contextlib',
  'colorsys',
  'pprint',
  'traceback',
  'logging',
];
/** Builtins `allowlist` mode refuses outright, called or held: code from strings, files, consoles, scopes. */
export const ALLOWLIST_DENIED_BUILTINS: readonly string[] = [
  'eval',
  'exec',
  'compile',
  'open',
  'input',
  'breakpoint',
  'help',
  'exit',
  'quit',
  'globals',
  'locals',
  'vars',
];
/** Builtin classes: a computed attribute of one of these can reach `__subclasses__` and the like. */
export const BUILTIN_TYPES: readonly string[] = [
  'object',
  'type',
  'int',
  'str',
  'bytes',
  'float',
  'bool',
  'tuple',
  'list',
  'dict',
  'set',
  'frozenset',
  'BaseException',
  'Exception',
];

/** The dunders `allowlist` mode still lets code touch: constructors and names. */
export const ALLOWLIST_DUNDERS: readonly string[] = ['__init__', '__name__', '__doc__', '__qualname__'];

/** Lists that are not rules, shared with the bridge through the contract. */
export const POLICY_LISTS = {
  escapeNames: ESCAPE_NAMES,
  moduleAttributes: MODULE_ATTRIBUTES,
  protectedPaths: PROTECTED_PATHS,
  protectedSegments: PROTECTED_SEGMENTS,
  fileOpeners: FILE_OPENERS,
  allowedModules: DEFAULT_ALLOWED_MODULES,
  allowlistDeniedBuiltins: ALLOWLIST_DENIED_BUILTINS,
  allowlistDunders: ALLOWLIST_DUNDERS,
  builtinTypes: BUILTIN_TYPES,
} as const;

export const ALLOWLIST_RULES: Readonly<Record<string, string>> = {
  import: 'only the modules on the allowlist may be imported.',
  dunder: 'allowlist mode refuses dunder names and attributes (other than __init__, __name__, __doc__).',
  builtin: 'allowlist mode refuses builtins that run strings, open files or read scopes.',
  getattr: 'allowlist mode refuses getattr(), setattr(), delattr() and hasattr() with a computed name.',
  private: 'allowlist mode refuses private attributes (`_name`) of anything but self and cls.',
};

export function escapeRules(guardedModules: Iterable<string>): PolicyRule[] {
  return [
    ...Object.entries(ESCAPE_ATTRIBUTES).map(
      ([name, why]): PolicyRule => ({
        id: `reflection:${name}`,
        kind: 'reflection',
        target: name,
        description: `${name} ${why}.`,
      }),
    ),
    ...[...guardedModules].map(
      (module): PolicyRule => ({
        id: `alias:${module}`,
        kind: 'alias',
        target: module,
        description: `the ${module} module passed as a value (argument, lambda, container) cannot be followed.`,
      }),
    ),
    {
      id: 'file:open',
      kind: 'file',
      target: 'open',
      description: 'opening system files, credentials or paths that climb with .. is refused.',
    },
    ...Object.entries(ALLOWLIST_RULES).map(
      ([name, description]): PolicyRule => ({
        id: `allowlist:${name}`,
        kind: 'allowlist',
        target: name,
        description,
      }),
    ),
  ];
}
