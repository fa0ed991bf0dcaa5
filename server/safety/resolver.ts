import type { Node } from 'web-tree-sitter';
import { canonicalName, IMPORTERS, moduleByAttribute, NAMESPACE, type RuleSet } from './rule-set.js';
import {
  argument,
  hasArguments,
  type NodeIndex,
  nameOf,
  normalized,
  positionalArgs,
  stringValue,
} from './syntax.js';

/** What an expression may evaluate to, as canonical dotted names (`os`, `os.system`, `eval`). */
export type Resolve = (node: Node) => ReadonlySet<string>;

const NONE: ReadonlySet<string> = new Set();
const MAX_DEPTH = 64;
const MAX_CANDIDATES = 32;
const MAX_ROUNDS = 3;
/** Node types that can bind a name; the index handed to the resolver must cover them. */
export const BINDING_SITES: ReadonlySet<string> = new Set([
  'import_statement',
  'import_from_statement',
  'assignment',
  'named_expression',
  'default_parameter',
  'typed_default_parameter',
]);

/**
 * Builds a flow-insensitive name resolver for one tree. A name bound several ways anywhere in the file
 * (`o = os` in one branch, `o = 1` in another) keeps every notable binding, so rebinding never hides a
 * denied target. It is a tripwire for ordinary misuse, not a sandbox: containers, closures and reflection
 * beyond the rules (`operator.attrgetter`, `reduce(getattr, ...)`) are not followed.
 */
export function createResolver(index: NodeIndex, rules: RuleSet): Resolve {
  const typeOf = (node: Node) => index.typeOf(node);
  const bindings = new Map<string, Set<string>>();
  const starModules = new Set<string>();
  const assignments: Array<[target: Node, value: Node]> = [];
  let memo = new Map<number, ReadonlySet<string>>();

  const bind = (name: string, values: Iterable<string>): boolean => {
    let changed = false;
    for (const value of values) {
      if (value === name || !rules.isNotable(value)) continue;
      const set = bindings.get(name) ?? new Set<string>();
      if (set.has(value)) continue;
      set.add(value);
      bindings.set(name, set);
      changed = true;
    }
    return changed;
  };

  // A result cut short by the depth limit is not cached, or a call nested past the limit in getattr's
  // arguments would pin a denied name to "nothing" before the walk reaches it at depth 0.
  let truncations = 0;
  const resolve = (node: Node, depth: number): ReadonlySet<string> => {
    const cached = memo.get(node.id);
    if (cached) return cached;
    if (depth > MAX_DEPTH) {
      truncations++;
      return NONE;
    }
    // Chains like `a.b.c(...)[0].d` are followed iteratively, innermost first, so each link is cached
    // before its parent needs it and no chain length can exhaust the stack.
    const chain: Array<[link: Node, spine: Node | null]> = [];
    for (let link: Node | null = node; link; ) {
      const spine = spineOf(link, typeOf(link));
      chain.push([link, spine]);
      link = spine && !memo.has(spine.id) ? spine : null;
    }
    let result = NONE;
    for (let i = chain.length - 1; i >= 0; i--) {
      const [link, spine] = chain[i]!;
      const before = truncations;
      result = compute(link, spine, depth + 1);
      if (truncations === before) memo.set(link.id, result);
    }
    return result;
  };

  /** `spine` is `spineOf(node)`, passed in because each field lookup is a wasm round trip. */
  const compute = (node: Node, spine: Node | null, depth: number): ReadonlySet<string> => {
    const out = new Set<string>();
    switch (typeOf(node)) {
      case 'identifier':
        namesFor(nameOf(node), out);
        break;
      case 'attribute': {
        // `logging.os`, `random._os`: a module held by another module is that module, whatever holds it.
        const text = node.text;
        const held = moduleByAttribute(normalized(text.slice(text.lastIndexOf('.') + 1).trim()));
        if (held) out.add(held);
        const bases = spine ? resolve(spine, depth) : NONE;
        const attrNode = bases.size > 0 ? node.childForFieldName('attribute') : null;
        const attr = attrNode ? nameOf(attrNode) : undefined;
        if (attr) for (const base of bases) out.add(canonicalName(`${base}.${attr}`));
        break;
      }
      case 'parenthesized_expression':
        if (spine) for (const value of resolve(spine, depth)) out.add(value);
        break;
      case 'call':
        if (spine) resolveCall(node, spine, depth, out);
        break;
      case 'subscript': {
        const container = spine ? resolve(spine, depth) : NONE;
        if (!container.has('sys.modules') && !container.has(NAMESPACE)) break;
        const key = stringValue(node.childForFieldName('subscript'));
        if (key === null) break;
        // sys.modules['os'] hands back the module; globals()['o'] whatever the name `o` is bound to.
        if (container.has(NAMESPACE)) namesFor(key, out);
        else out.add(canonicalName(key));
        break;
      }
    }
    // Dropping names no rule can reach keeps ordinary code (`omni.usd.get_context()...`) nearly free.
    const notable = [...out].filter((name) => rules.isNotable(name));
    return notable.length === 0 ? NONE : new Set(notable.slice(0, MAX_CANDIDATES));
  };

  const namesFor = (name: string, out: Set<string>): void => {
    out.add(canonicalName(name));
    for (const value of bindings.get(name) ?? []) out.add(value);
    for (const module of starModules) out.add(canonicalName(`${module}.${name}`));
  };

  const resolveCall = (call: Node, fn: Node, depth: number, out: Set<string>): void => {
    const callee = resolve(fn, depth);
    for (const name of callee) {
      if (IMPORTERS.has(name)) {
        const module = stringValue(argument(call, 0, 'name'));
        if (module === null || module.startsWith('.')) continue;
        out.add(canonicalName(module));
        // __import__('a.b') returns package a.
        out.add(canonicalName(module.split('.')[0] ?? module));
      } else if (name === 'getattr') {
        const [object, attr] = positionalArgs(call);
        const attrName = stringValue(attr ?? null);
        if (!object || attrName === null) continue;
        for (const base of resolve(object, depth)) out.add(canonicalName(`${base}.${attrName}`));
      } else if (name === 'globals' || name === 'locals' || (name === 'vars' && !hasArguments(call))) {
        out.add(NAMESPACE);
      }
    }
  };

  for (const type of BINDING_SITES) {
    for (const node of index.of(type)) collect(node, type, bind, starModules, assignments);
  }
  // Later rounds pick up chains such as `a = os` followed (anywhere) by `b = a`.
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let changed = false;
    for (const [target, value] of assignments) {
      changed = bind(nameOf(target), resolve(value, 0)) || changed;
    }
    if (!changed) break;
    memo = new Map();
  }
  return (node) => resolve(node, 0);
}

type Bind = (name: string, values: Iterable<string>) => boolean;

function collect(
  node: Node,
  type: string,
  bind: Bind,
  starModules: Set<string>,
  assignments: Array<[Node, Node]>,
): void {
  switch (type) {
    case 'import_statement':
      for (const item of node.childrenForFieldName('name')) {
        const alias = item?.type === 'aliased_import' ? item.childForFieldName('alias') : null;
        const dotted = item?.type === 'aliased_import' ? item.childForFieldName('name') : null;
        if (alias && dotted) bind(nameOf(alias), [canonicalName(dottedText(dotted))]);
      }
      break;
    case 'import_from_statement': {
      const moduleNode = node.childForFieldName('module_name');
      if (moduleNode?.type !== 'dotted_name') break;
      const module = dottedText(moduleNode);
      if (node.namedChildren.some((c) => c?.type === 'wildcard_import'))
        starModules.add(canonicalName(module));
      for (const item of node.childrenForFieldName('name')) {
        const aliased = item?.type === 'aliased_import';
        const dotted = aliased ? item.childForFieldName('name') : item;
        const local = aliased ? item.childForFieldName('alias') : dotted;
        if (dotted && local) bind(nameOf(local), [canonicalName(`${module}.${dottedText(dotted)}`)]);
      }
      break;
    }
    case 'assignment':
    case 'named_expression':
    case 'default_parameter':
    case 'typed_default_parameter': {
      const target = node.childForFieldName(type === 'assignment' ? 'left' : 'name');
      let value = node.childForFieldName(type === 'assignment' ? 'right' : 'value');
      // `a = b = os`: the inner assignment is collected on its own; `a` takes its value.
      while (value?.type === 'assignment') value = value.childForFieldName('right');
      if (target && value) pairTargets(target, value, assignments);
      break;
    }
  }
}

const SEQUENCES = new Set([
  'pattern_list',
  'tuple_pattern',
  'list_pattern',
  'expression_list',
  'tuple',
  'list',
]);

/** Pairs `a, b = os, sys` element by element; anything not a plain name is left out. */
function pairTargets(target: Node, value: Node, assignments: Array<[Node, Node]>, depth = 0): void {
  if (target.type === 'identifier') {
    assignments.push([target, value]);
    return;
  }
  if (depth > MAX_DEPTH || !SEQUENCES.has(target.type) || !SEQUENCES.has(value.type)) return;
  const targets = target.namedChildren;
  const values = value.namedChildren;
  if (targets.length !== values.length) return;
  targets.forEach((t, i) => {
    const v = values[i];
    if (t && v) pairTargets(t, v, assignments, depth + 1);
  });
}

export function dottedText(node: Node): string {
  return node.namedChildren
    .filter((c) => c?.type === 'identifier')
    .map((c) => (c ? nameOf(c) : ''))
    .join('.');
}

/** The child an expression is built on: `a.b` on `a`, `f(x)` on `f`, `m[k]` on `m`, `(e)` on `e`. */
function spineOf(node: Node, type: string): Node | null {
  switch (type) {
    case 'attribute':
      return node.childForFieldName('object');
    case 'call':
      return node.childForFieldName('function');
    case 'subscript':
      return node.childForFieldName('value');
    case 'parenthesized_expression':
      return node.firstNamedChild;
    default:
      return null;
  }
}
