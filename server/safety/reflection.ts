import type { Node } from 'web-tree-sitter';
import type { Resolve } from './resolver.js';
import { canonicalName, IMPORTERS, NAMESPACE, type RuleSet } from './rule-set.js';
import { argument, nameOf, positionalArgs, stringValue } from './syntax.js';

/**
 * Checks for reaching things by name at run time (getattr, vars, globals(), `__dict__`, `__builtins__`),
 * which would otherwise walk around the import and call rules.
 */

export interface CheckContext {
  rules: RuleSet;
  resolve: Resolve;
  typeOf(node: Node): string;
  report(node: Node, rule: string, message: string): void;
  checkImport(node: Node, module: string): boolean;
}

const ATTRIBUTE_FUNCTIONS = new Set(['getattr', 'setattr', 'delattr']);
const MAPPING_READS = new Set(['get', '__getitem__', 'pop', 'setdefault']);

/** Call checks keyed on what the callee resolved to; `name` is that resolved name. */
export function checkReflectiveCall(ctx: CheckContext, call: Node, name: string): void {
  const importer = IMPORTERS.get(name);
  if (importer !== undefined) checkImporter(ctx, call, name, importer);
  if (ATTRIBUTE_FUNCTIONS.has(name)) checkAttributeFunction(ctx, call, name);
  if (name === 'vars') {
    const [object] = positionalArgs(call);
    if (object && isGuarded(ctx, object)) {
      ctx.report(call, 'dynamic:vars', 'vars() of a denied module or the builtins is not allowed.');
    }
  }
}

/** `globals().get(name)`, `__builtins__.get('eval')`: the method forms of indexing. */
export function checkMappingMethod(ctx: CheckContext, call: Node, fn: Node): void {
  const methodNode = ctx.typeOf(fn) === 'attribute' ? fn.childForFieldName('attribute') : null;
  const method = methodNode ? nameOf(methodNode) : undefined;
  const owner = fn.childForFieldName('object');
  if (method && owner && MAPPING_READS.has(method))
    checkMappingRead(ctx, call, owner, argument(call, 0, 'key'));
}

export function checkSubscript(ctx: CheckContext, node: Node): void {
  const value = node.childForFieldName('value');
  if (!value) return;
  const key = node.childForFieldName('subscript');
  checkMappingRead(ctx, node, value, key);
  const module = stringValue(key);
  if (module !== null && ctx.resolve(value).has('sys.modules')) ctx.checkImport(node, module);
}

export function checkDunderDict(ctx: CheckContext, node: Node): void {
  // A string test first: field lookups cross into wasm, and nearly no attribute is `__dict__`.
  if (!nameOf(node).endsWith('__dict__')) return;
  const object = node.childForFieldName('object');
  const attr = node.childForFieldName('attribute');
  if (!attr || nameOf(attr) !== '__dict__' || !object || !isGuarded(ctx, object)) return;
  const message = `${object.text}.__dict__ is not allowed: it reaches every attribute by name.`;
  ctx.report(node, 'dynamic:__dict__', message);
}

function checkImporter(ctx: CheckContext, call: Node, name: string, rule: string): void {
  const arg = argument(call, 0, 'name');
  if (!arg) return;
  const module = stringValue(arg);
  if (module === null) {
    ctx.report(call, `dynamic:${rule}`, `${name}() of a computed module name is not allowed.`);
  } else if (!module.startsWith('.')) {
    ctx.checkImport(call, module);
  } else if (name === 'importlib.import_module') {
    // `import_module('.process', 'multiprocessing')` is multiprocessing.process.
    const anchor = argument(call, 1, 'package');
    const pkg = stringValue(anchor);
    if (pkg !== null) ctx.checkImport(call, `${pkg}.${module.replace(/^\.+/, '')}`);
    else if (anchor) ctx.report(call, `dynamic:${rule}`, `${name}() of a computed package is not allowed.`);
  }
}

function checkAttributeFunction(ctx: CheckContext, call: Node, name: string): void {
  const [object, attr] = positionalArgs(call);
  if (!object) return;
  if (object.type === 'list_splat') {
    ctx.report(call, `dynamic:${name}`, `${name}() with unpacked arguments is not allowed.`);
    return;
  }
  const targets = ctx.resolve(object);
  if (targets.has('builtins')) {
    ctx.report(call, `dynamic:${name}`, `${name}() on the builtins is not allowed.`);
    return;
  }
  const modules = [...targets].filter((t) => ctx.rules.isSensitiveModule(t));
  if (modules.length === 0) return;
  const attrName = stringValue(attr ?? null);
  if (attrName === null) {
    ctx.report(
      call,
      `dynamic:${name}`,
      `${name}() on ${modules.join(', ')} with a computed name is not allowed.`,
    );
    return;
  }
  // setattr/delattr with a literal name only replace or drop the attribute, which runs nothing.
  if (name !== 'getattr') return;
  for (const module of modules) {
    const denied = ctx.rules.deniedCall(canonicalName(`${module}.${attrName}`));
    if (!denied) continue;
    const message = `getattr(${module}, '${attrName}') reaches ${denied.target}, which is not allowed: it ${denied.why}.`;
    ctx.report(call, `getattr:${denied.target}`, message);
  }
}

/** `globals()['__builtins__']`, `locals()[name]`, `__builtins__['eval']`. */
function checkMappingRead(ctx: CheckContext, node: Node, mapping: Node, key: Node | null): void {
  const targets = ctx.resolve(mapping);
  if (targets.has('builtins')) {
    ctx.report(node, 'dynamic:__builtins__', 'Indexing the builtins mapping is not allowed.');
  }
  if (!targets.has(NAMESPACE)) return;
  const name = stringValue(key);
  if (name === null || /^__.*__$/.test(name)) {
    const what = name === null ? 'a computed key' : `'${name}'`;
    ctx.report(node, 'dynamic:globals', `Reading globals(), locals() or vars() with ${what} is not allowed.`);
  }
}

/** Where a computed attribute name could land on something denied. */
function isGuarded(ctx: CheckContext, node: Node): boolean {
  return [...ctx.resolve(node)].some((t) => ctx.rules.isSensitiveModule(t));
}
