import {
  ALLOWLIST_DENIED_BUILTINS,
  ALLOWLIST_DUNDERS,
  DEFAULT_ALLOWED_MODULES,
  FILE_OPENERS,
  MODULE_ATTRIBUTES,
} from './escape-rules.js';
import { DEFAULT_DENIED_CALLS, DEFAULT_DENIED_MODULES, guardedModulesOf, MODULE_ALIASES } from './rules.js';
import type { PolicyOptions } from './types.js';

const CONFIGURED = 'is denied by configuration';
// A Map, not the record: `MODULE_ALIASES['constructor']` would find Object.prototype's.
const ALIASES = new Map(Object.entries(MODULE_ALIASES));
const NOTABLE_CACHE_SIZE = 50_000;

/** What `globals()`, `locals()` and `vars()` resolve to: a name no Python identifier can spell. */
export const NAMESPACE = '%namespace';

/** Import functions, each with the dynamic rule its computed form breaks. */
export const IMPORTERS: ReadonlyMap<string, string> = new Map([
  ['__import__', '__import__'],
  ['importlib.__import__', '__import__'],
  ['importlib.import_module', 'importlib.import_module'],
]);

/** Names that reach other code by name; aliases to them are tracked even though they are not denied. */
const GATEWAYS = new Set([
  'eval',
  'exec',
  'compile',
  ...IMPORTERS.keys(),
  'getattr',
  'setattr',
  'delattr',
  'globals',
  'locals',
  'vars',
  'sys',
  'sys.modules',
  'builtins',
  NAMESPACE,
  'hasattr',
  'operator',
  'operator.attrgetter',
  'operator.methodcaller',
  'io',
  'codecs',
  'pathlib',
  ...FILE_OPENERS,
  ...ALLOWLIST_DENIED_BUILTINS,
]);

/** What `allowlist` mode adds to strict. */
export interface Allowlist {
  isAllowedModule(module: string): boolean;
  deniedBuiltins: ReadonlySet<string>;
  dunders: ReadonlySet<string>;
}

export interface Denied {
  target: string;
  why: string;
}

/** The options compiled into lookups the analyser asks per node. */
export interface RuleSet {
  /** The denied module covering `module` (itself or a parent package), if any. */
  deniedImport(module: string): Denied | null;
  deniedCall(name: string): Denied | null;
  /** Modules where a computed attribute name could land on a denied call. */
  isSensitiveModule(name: string): boolean;
  /** Whether a name is worth following through assignments and imports. */
  isNotable(name: string): boolean;
  isLifted(ruleId: string): boolean;
  /** Modules that may not be passed around as values (`f(os)`, `[os]`, `lambda: os`). */
  isGuardedModule(name: string): boolean;
  /** Whether a bare attribute name is the last part of a denied call (`system` for `os.system`). */
  isDeniedAttributeName(name: string): boolean;
  /** Set in `allowlist` mode only. */
  allowlist: Allowlist | null;
}

const MODULE_ATTRIBUTE_SET = new Set(MODULE_ATTRIBUTES);

/** `os` for an attribute named `os` or `_os`: modules other modules hold (`logging.os`, `random._os`). */
export function moduleByAttribute(name: string): string | null {
  const bare = name.replace(/^_+/, '');
  return MODULE_ATTRIBUTE_SET.has(bare) ? canonicalName(bare) : null;
}

export function compileRules(opts: PolicyOptions): RuleSet {
  const modules = new Map<string, string>(Object.entries(DEFAULT_DENIED_MODULES));
  for (const m of clean(opts.denyImports)) modules.set(canonicalName(m), CONFIGURED);

  const exactCalls = new Map<string, string>(Object.entries(DEFAULT_DENIED_CALLS));
  const callFamilies: Array<[prefix: string, why: string]> = [];
  for (const c of clean(opts.denyCalls)) {
    if (c.endsWith('*')) callFamilies.push([canonicalName(c.slice(0, -1)), CONFIGURED]);
    else exactCalls.set(canonicalName(c), CONFIGURED);
  }

  const sensitive = new Set(['builtins', 'importlib', ...modules.keys()]);
  const prefixes = new Set<string>();
  const reachable = [...exactCalls.keys(), ...callFamilies.map(([p]) => p), ...modules.keys()];
  // Alias keys count too: `asyncio` must survive resolution for `asyncio.subprocess.x` to be rewritten.
  for (const target of [...reachable, ...ALIASES.keys()]) {
    const parts = target.split('.');
    for (let i = 1; i < parts.length; i++) prefixes.add(parts.slice(0, i).join('.'));
    if (parts.length > 1 && exactCalls.has(target)) sensitive.add(parts.slice(0, -1).join('.'));
  }
  for (const [prefix] of callFamilies) {
    const dot = prefix.lastIndexOf('.');
    if (dot > 0) sensitive.add(prefix.slice(0, dot));
  }

  const deniedImport = (module: string): Denied | null => {
    const parts = module.split('.');
    for (let i = 1; i <= parts.length; i++) {
      const head = parts.slice(0, i).join('.');
      const why = modules.get(head);
      if (why !== undefined) return { target: head, why };
    }
    return null;
  };
  const deniedCall = (name: string): Denied | null => {
    const why = exactCalls.get(name);
    if (why !== undefined) return { target: name, why };
    const family = callFamilies.find(([prefix]) => name.startsWith(prefix));
    return family ? { target: name, why: family[1] } : null;
  };
  const guarded = new Set(guardedModulesOf([...exactCalls.keys(), ...callFamilies.map(([p]) => `${p}x`)]));
  const deniedNames = new Set([...exactCalls.keys()].map((c) => c.slice(c.lastIndexOf('.') + 1)));
  const allowedModules = new Set([...DEFAULT_ALLOWED_MODULES, ...clean(opts.allowModules ?? [])]);
  const allowlist: Allowlist | null =
    opts.mode === 'allowlist'
      ? {
          isAllowedModule: (module) => {
            const parts = module.split('.');
            return parts.some((_, i) => allowedModules.has(parts.slice(0, i + 1).join('.')));
          },
          deniedBuiltins: new Set(ALLOWLIST_DENIED_BUILTINS),
          dunders: new Set(ALLOWLIST_DUNDERS),
        }
      : null;
  // Per policy, not per check: the same dotted names recur across every snippet a hub sees.
  const notableCache = new Map<string, boolean>();
  const allow = clean(opts.allow);
  const lifts = (id: string) =>
    allow.some((entry) =>
      entry.endsWith('*')
        ? id.startsWith(entry.slice(0, -1))
        : id === entry || id.startsWith(`${entry}:`) || id.startsWith(`${entry}.`),
    );

  return {
    deniedImport,
    deniedCall,
    isSensitiveModule: (name) => sensitive.has(name),
    isGuardedModule: (name) => guarded.has(name),
    isDeniedAttributeName: (name) => deniedNames.has(name),
    allowlist,
    isNotable: (name) => {
      let notable = notableCache.get(name);
      if (notable === undefined) {
        notable =
          GATEWAYS.has(name) ||
          sensitive.has(name) ||
          prefixes.has(name) ||
          deniedCall(name) !== null ||
          deniedImport(name) !== null;
        if (notableCache.size < NOTABLE_CACHE_SIZE) notableCache.set(name, notable);
      }
      return notable;
    },
    // Lifting a call also lifts holding the function: `allow: call:os.system` should not refuse `f = os.system`.
    isLifted: (id) => {
      const reference = /^(attribute|getattr):(.+)$/.exec(id);
      return lifts(id) || (reference !== null && lifts(`call:${reference[2]}`));
    },
  };
}

/**
 * Rewrites a dotted name to the spelling the rules use: `posix.system` -> `os.system`,
 * `__builtins__.eval` and `builtins.eval` -> `eval`.
 */
export function canonicalName(dotted: string): string {
  const parts = dotted.split('.');
  let name = dotted;
  for (let i = parts.length; i > 0; i--) {
    const alias = ALIASES.get(parts.slice(0, i).join('.'));
    if (alias !== undefined) {
      name = [alias, ...parts.slice(i)].join('.');
      break;
    }
  }
  return name.startsWith('builtins.') && name.indexOf('.', 9) === -1 ? name.slice(9) : name;
}

function clean(names: readonly string[]): string[] {
  return names.map((n) => n.trim()).filter((n) => n.length > 0);
}
