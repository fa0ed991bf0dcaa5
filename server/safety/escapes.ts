import type { Node } from 'web-tree-sitter';
import {
  BUILTIN_TYPES,
  ESCAPE_ATTRIBUTES,
  ESCAPE_NAMES,
  FILE_OPENERS,
  PROTECTED_PATHS,
  PROTECTED_SEGMENTS,
} from './escape-rules.js';
import type { CheckContext } from './reflection.js';
import { moduleByAttribute } from './rule-set.js';
import { argument, fieldOf, isBinding, nameOf, normalized, positionalArgs, stringValue } from './syntax.js';

/**
 * The known walks around a deny-list: escape-only attributes (`().__class__.__base__.__subclasses__()`),
 * modules handed around where the resolver cannot follow them (`f(os)`, `[os]`, `lambda: os`), attribute
 * getters (`operator.attrgetter('system')`), system files, and in allowlist mode everything not listed.
 */

const ESCAPES = new Map(Object.entries(ESCAPE_ATTRIBUTES));
const ESCAPE_GLOBALS = new Set(ESCAPE_NAMES);
const OPENERS = new Set(FILE_OPENERS);
const DUNDER = /^__.*__$/;
const TYPES = new Set(BUILTIN_TYPES);
const OWN = new Set(['self', 'cls']);
const MAPPING_READS = new Set(['get', '__getitem__', 'pop', 'setdefault']);
const ATTRIBUTE_GETTERS = new Set(['operator.attrgetter', 'operator.methodcaller']);
const NAME_FUNCTIONS = new Set(['getattr', 'setattr', 'delattr', 'hasattr']);
/** Functions that only look at a module they are given: `hasattr(os, 'fork')`, `print(os)`. */
const LOOKERS = new Set([
  ...NAME_FUNCTIONS,
  'isinstance',
  'type',
  'id',
  'print',
  'repr',
  'str',
  'dir',
  'callable',
]);

/** `x.__subclasses__`, and in allowlist mode any dunder attribute but a few. */
export function checkEscapeAttribute(ctx: CheckContext, node: Node): void {
  // A string test first: field lookups cross into wasm, and nearly no attribute is a dunder or escape.
  const text = node.text;
  const tail = normalized(text.slice(text.lastIndexOf('.') + 1).trim());
  const allowlist = ctx.rules.allowlist;
  if (!ESCAPES.has(tail) && tail !== '__dict__' && !(allowlist && tail.startsWith('_'))) return;
  const attr = node.childForFieldName('attribute');
  const object = node.childForFieldName('object');
  if (!attr || !object) return;
  const name = nameOf(attr);
  reportName(ctx, node, name);
  if (name === '__dict__' && isTypeLike(ctx, object)) {
    const message = `${object.text}.__dict__ is not allowed: it reaches __subclasses__ and the like by name.`;
    ctx.report(node, 'dynamic:__dict__', message);
  }
  if (allowlist && name.startsWith('_') && !DUNDER.test(name)) {
    const owner = ctx.typeOf(object) === 'identifier' ? nameOf(object) : '';
    if (!OWN.has(owner)) {
      const message = `${name} is not allowed in allowlist mode: private attributes only on self and cls.`;
      ctx.report(node, 'allowlist:private', message);
    }
  }
}

const ATTRIBUTE_PATH = /\.(\w+)/g;

/**
 * `string.Formatter().get_field('0.__class__.__base__.__subclasses__', ...)`, `'{0.__globals__}'.format(f)`:
 * attribute paths inside string literals are followed by format() and friends, so escape names there count.
 */
export function checkStringPath(ctx: CheckContext, node: Node): void {
  const text = node.text;
  if (!text.includes('.')) return;
  const value = stringValue(node);
  if (value === null) return;
  const allowlist = ctx.rules.allowlist;
  for (const [, name = ''] of value.matchAll(ATTRIBUTE_PATH)) {
    if (ESCAPES.has(name)) reportEscape(ctx, node, name);
    if (allowlist && DUNDER.test(name) && !allowlist.dunders.has(name)) reportDunder(ctx, node, name);
  }
}

/** `table['__subclasses__']`, `ns.get('__globals__')`: escape names used as keys. */
export function checkEscapeKey(ctx: CheckContext, node: Node): void {
  let key: Node | null = null;
  if (ctx.typeOf(node) === 'subscript') key = node.childForFieldName('subscript');
  else {
    const fn = node.childForFieldName('function');
    const method = fn && ctx.typeOf(fn) === 'attribute' ? fn.childForFieldName('attribute') : null;
    if (method && MAPPING_READS.has(nameOf(method))) key = argument(node, 0, 'key');
  }
  const name = stringValue(key);
  if (name !== null && ESCAPES.has(name)) reportEscape(ctx, node, name);
}

/** `__loader__`, `__builtins__` as bare names; in allowlist mode every dunder name and denied builtin. */
export function checkEscapeName(ctx: CheckContext, node: Node): void {
  const name = nameOf(node);
  const allowlist = ctx.rules.allowlist;
  const escapes = ESCAPE_GLOBALS.has(name);
  const dunder = allowlist !== null && DUNDER.test(name) && !allowlist.dunders.has(name);
  const builtin = allowlist !== null && [...ctx.resolve(node)].some((t) => allowlist.deniedBuiltins.has(t));
  if (!escapes && !dunder && !builtin) return;
  if (isBinding(node)) return;
  if (escapes) reportEscape(ctx, node, name);
  if (dunder) reportDunder(ctx, node, name);
  if (builtin) {
    const message = `${name} is not allowed in allowlist mode: it runs strings, opens files or reads scopes.`;
    ctx.report(node, 'allowlist:builtin', message);
  }
}

/** `f(os)`, `[os]`, `lambda: os`, `return os`: the module leaves the resolver's sight. */
export function checkAlias(ctx: CheckContext, node: Node): void {
  const modules = [...ctx.resolve(node)].filter((t) => ctx.rules.isGuardedModule(t));
  if (modules.length === 0 || isBinding(node) || isFollowed(ctx, node)) return;
  for (const module of modules) {
    const message = `Passing the ${module} module around as a value is not allowed: the policy cannot follow it to where it is used.`;
    ctx.report(node, `alias:${module}`, message);
  }
}

/** `asyncio.base_events.subprocess`: a denied module reached as another module's attribute, not imported. */
export function checkHeldModule(ctx: CheckContext, node: Node): void {
  const text = node.text;
  const held = moduleByAttribute(normalized(text.slice(text.lastIndexOf('.') + 1).trim()));
  const denied = held ? ctx.rules.deniedImport(held) : null;
  if (!denied) return;
  const message = `Reaching ${held} as an attribute is not allowed: ${denied.target} ${denied.why}.`;
  ctx.report(node, `import:${denied.target}`, message);
}

/** Checks keyed on what a call's callee resolved to. */
export function checkEscapeCall(ctx: CheckContext, call: Node, name: string): void {
  if (ATTRIBUTE_GETTERS.has(name)) checkAttributeGetter(ctx, call, name);
  if (OPENERS.has(name)) checkOpenedPath(ctx, call, name);
  if (NAME_FUNCTIONS.has(name)) checkNameArgument(ctx, call, name);
  if (name === 'vars') {
    const [object] = positionalArgs(call);
    if (object && isTypeLike(ctx, object)) {
      ctx.report(
        call,
        'dynamic:vars',
        'vars() of a class is not allowed: it reaches __subclasses__ and the like.',
      );
    }
  }
}

/** `object`, `type(x)`, `x.__class__`: classes whose computed attributes lead to every other class. */
function isTypeLike(ctx: CheckContext, node: Node): boolean {
  const type = ctx.typeOf(node);
  if (type === 'identifier') return TYPES.has(nameOf(node));
  if (type === 'call') {
    const fn = node.childForFieldName('function');
    return fn !== null && ctx.typeOf(fn) === 'identifier' && nameOf(fn) === 'type';
  }
  if (type === 'attribute') {
    const attr = node.childForFieldName('attribute');
    return attr !== null && nameOf(attr) === '__class__';
  }
  return false;
}

function checkAttributeGetter(ctx: CheckContext, call: Node, name: string): void {
  const args = name === 'operator.methodcaller' ? positionalArgs(call).slice(0, 1) : positionalArgs(call);
  const rule = `dynamic:${name}`;
  const short = name.slice('operator.'.length);
  for (const arg of args) {
    const value = stringValue(arg);
    if (value === null) {
      ctx.report(call, rule, `${short}() of a computed name is not allowed: it could reach anything.`);
      return;
    }
    const bad = value
      .split('.')
      .find((p) => DUNDER.test(p) || ESCAPES.has(p) || ctx.rules.isDeniedAttributeName(p));
    if (bad !== undefined) {
      ctx.report(call, rule, `${short}('${value}') is not allowed: it reaches ${bad} by name.`);
      return;
    }
  }
}

function checkOpenedPath(ctx: CheckContext, call: Node, name: string): void {
  const path = stringValue(argument(call, 0, name === 'os.open' ? 'path' : 'file'));
  if (path === null || !isProtectedPath(path)) return;
  const message = `${name}('${path}') is not allowed: system files, credentials and paths that climb with .. are refused.`;
  ctx.report(call, 'file:open', message);
}

export function isProtectedPath(path: string): boolean {
  const p = path.replace(/\\/g, '/').toLowerCase();
  if (PROTECTED_PATHS.some((root) => p === root || p.startsWith(`${root}/`))) return true;
  return p.split('/').some((segment) => PROTECTED_SEGMENTS.includes(segment));
}

/** `getattr(x, '__subclasses__')`; in allowlist mode any dunder or computed name. */
function checkNameArgument(ctx: CheckContext, call: Node, name: string): void {
  const [object, attr] = positionalArgs(call);
  if (!attr || !object) return;
  const value = stringValue(attr);
  const allowlist = ctx.rules.allowlist;
  if (value === null && isTypeLike(ctx, object)) {
    const message = `${name}() on a class with a computed name is not allowed: it could reach __subclasses__.`;
    ctx.report(call, `dynamic:${name}`, message);
  }
  if (value === null) {
    if (allowlist) {
      const message = `${name}() with a computed name is not allowed in allowlist mode.`;
      ctx.report(call, 'allowlist:getattr', message);
    }
    return;
  }
  reportName(ctx, call, value);
}

function reportName(ctx: CheckContext, node: Node, name: string): void {
  if (ESCAPES.has(name)) reportEscape(ctx, node, name);
  const allowlist = ctx.rules.allowlist;
  if (allowlist && DUNDER.test(name) && !allowlist.dunders.has(name)) reportDunder(ctx, node, name);
}

function reportEscape(ctx: CheckContext, node: Node, name: string): void {
  ctx.report(node, `reflection:${name}`, `${name} is not allowed: it ${ESCAPES.get(name)}.`);
}

function reportDunder(ctx: CheckContext, node: Node, name: string): void {
  ctx.report(node, 'allowlist:dunder', `${name} is not allowed in allowlist mode: no dunder access.`);
}

/** Where the resolver does follow a module: `os.path`, `o = os`, `def f(m=os)`, `hasattr(os, 'fork')`. */
function isFollowed(ctx: CheckContext, node: Node): boolean {
  const parent = node.parent;
  if (!parent) return true;
  const field = fieldOf(node);
  switch (parent.type) {
    case 'attribute':
      return field === 'object';
    case 'assignment':
      // In a class body the name becomes an attribute (`Box.m`), which the resolver does not follow.
      return (
        field === 'right' &&
        parent.childForFieldName('left')?.type === 'identifier' &&
        parent.parent?.parent?.parent?.type !== 'class_definition'
      );
    case 'named_expression':
    case 'default_parameter':
    case 'typed_default_parameter':
      return field === 'value';
    case 'argument_list': {
      const fn = parent.parent?.childForFieldName('function');
      if (!fn || ctx.typeOf(fn) !== 'identifier' || !LOOKERS.has(nameOf(fn))) return false;
      // getattr(x, 'y', os) hands os back and setattr(x, 'y', os) stores it: only the first is looked at.
      return !NAME_FUNCTIONS.has(nameOf(fn)) || positionalArgs(parent.parent as Node)[0]?.id === node.id;
    }
  }
  return false;
}
