import type { Node, Parser } from 'web-tree-sitter';
import {
  checkAlias,
  checkEscapeAttribute,
  checkEscapeCall,
  checkEscapeKey,
  checkEscapeName,
  checkHeldModule,
  checkStringPath,
} from './escapes.js';
import {
  type CheckContext,
  checkDunderDict,
  checkMappingMethod,
  checkReflectiveCall,
  checkSubscript,
} from './reflection.js';
import { BINDING_SITES, createResolver, dottedText } from './resolver.js';
import { canonicalName, IMPORTERS, type RuleSet } from './rule-set.js';
import { argument, fieldOf, isBinding, NodeIndex, positionOf, stringValue } from './syntax.js';
import type { PolicyViolation } from './types.js';

export interface AnalysisEnv {
  parser: Parser;
  rules: RuleSet;
}

/** `eval('eval("...")')` is checked this many strings deep; deeper is refused as unreadable. */
const MAX_NESTING = 3;
const NESTED = 'In the code passed to ';
const NODE_TYPES = new Set([
  ...BINDING_SITES,
  'import_statement',
  'import_from_statement',
  'call',
  'subscript',
  'attribute',
  'identifier',
  'parenthesized_expression',
  'string',
]);
const EVALUATORS = new Set(['eval', 'exec', 'compile']);
/** Held without a call these can still run anything later, e.g. `map(eval, lines)`. */
const DANGEROUS_REFERENCES = new Set([
  ...EVALUATORS,
  ...IMPORTERS.keys(),
  'getattr',
  'setattr',
  'delattr',
  'globals',
  'locals',
  'vars',
  'sys.modules',
]);

/**
 * Every violation in `code`, unsorted, before modes and `allow` are applied. Syntax errors are skipped, not
 * refused: tree-sitter recovers around them and the extension reports them with a real traceback.
 */
export function analyzeSource(code: string, env: AnalysisEnv, nesting = 0): PolicyViolation[] {
  const tree = env.parser.parse(code);
  if (!tree) throw new Error('tree-sitter produced no tree');
  try {
    return analyzeTree(tree.rootNode, env, nesting);
  } finally {
    tree.delete();
  }
}

function analyzeTree(root: Node, env: AnalysisEnv, nesting: number): PolicyViolation[] {
  const index = new NodeIndex(root, NODE_TYPES);
  const found = new Map<string, PolicyViolation>();
  const { rules } = env;
  const ctx: CheckContext = {
    rules,
    resolve: createResolver(index, rules),
    typeOf: (node) => index.typeOf(node),
    report(node, rule, message) {
      const key = `${rule}@${node.startIndex}`;
      if (!found.has(key)) found.set(key, { rule, message, ...positionOf(node) });
    },
    checkImport(node, module) {
      const denied = rules.deniedImport(canonicalName(module));
      if (denied) {
        const message = `Importing ${module} is not allowed: ${denied.target} ${denied.why}.`;
        ctx.report(node, `import:${denied.target}`, message);
      }
      return denied !== null;
    },
  };
  const checkAllowed = (node: Node, module: string) => {
    if (rules.allowlist && !rules.allowlist.isAllowedModule(canonicalName(module))) {
      const message = `Importing ${module} is not allowed in allowlist mode: it is not on the allowed modules list.`;
      ctx.report(node, 'allowlist:import', message);
    }
  };

  for (const node of index.of('import_statement')) {
    for (const item of node.childrenForFieldName('name')) {
      const dotted = item?.type === 'aliased_import' ? item.childForFieldName('name') : item;
      if (dotted) ctx.checkImport(dotted, dottedText(dotted));
      if (dotted) checkAllowed(dotted, dottedText(dotted));
    }
  }
  for (const node of index.of('import_from_statement')) {
    checkFromImport(ctx, node);
    const moduleNode = node.childForFieldName('module_name');
    if (moduleNode?.type === 'dotted_name') checkAllowed(moduleNode, dottedText(moduleNode));
  }
  for (const node of index.of('call')) checkCall(ctx, node, env, nesting);
  for (const node of index.of('subscript')) {
    checkSubscript(ctx, node);
    checkEscapeKey(ctx, node);
  }
  for (const node of index.of('attribute')) {
    checkDunderDict(ctx, node);
    checkEscapeAttribute(ctx, node);
    checkHeldModule(ctx, node);
    checkReference(ctx, node);
    checkAlias(ctx, node);
  }
  for (const node of index.of('string')) checkStringPath(ctx, node);
  for (const node of index.of('identifier')) {
    checkReference(ctx, node);
    checkEscapeName(ctx, node);
    checkAlias(ctx, node);
  }
  return [...found.values()];
}

function checkFromImport(ctx: CheckContext, node: Node): void {
  const moduleNode = node.childForFieldName('module_name');
  // Relative imports name the caller's own package, which no rule can know.
  if (moduleNode?.type !== 'dotted_name') return;
  const module = dottedText(moduleNode);
  if (ctx.checkImport(moduleNode, module)) return;
  for (const item of node.childrenForFieldName('name')) {
    const dotted = item?.type === 'aliased_import' ? item.childForFieldName('name') : item;
    if (dotted) ctx.checkImport(dotted, `${module}.${dottedText(dotted)}`);
  }
}

function checkCall(ctx: CheckContext, call: Node, env: AnalysisEnv, nesting: number): void {
  const fn = call.childForFieldName('function');
  if (!fn) return;
  for (const name of ctx.resolve(fn)) {
    const denied = ctx.rules.deniedCall(name);
    if (denied) {
      const what = spelled(fn, denied.target, (t) => `${t}()`);
      ctx.report(call, `call:${denied.target}`, `Calling ${what} is not allowed: it ${denied.why}.`);
    }
    if (EVALUATORS.has(name)) checkEvaluated(ctx, call, name, env, nesting);
    checkReflectiveCall(ctx, call, name);
    checkEscapeCall(ctx, call, name);
  }
  checkMappingMethod(ctx, call, fn);
  checkEscapeKey(ctx, call);
}

/** eval/exec/compile take a literal only; the literal's own code is then held to the same rules. */
function checkEvaluated(
  ctx: CheckContext,
  call: Node,
  name: string,
  env: AnalysisEnv,
  nesting: number,
): void {
  const source = argument(call, 0, 'source');
  if (!source) return;
  const code = stringValue(source);
  if (code === null || nesting >= MAX_NESTING) {
    const what = code === null ? 'anything but a plain string literal' : 'strings nested this deep';
    ctx.report(call, `dynamic:${name}`, `${name}() of ${what} is not allowed: its code cannot be checked.`);
    return;
  }
  for (const inner of analyzeSource(code, env, nesting + 1)) {
    const message = inner.message.startsWith(NESTED) ? inner.message : `${NESTED}${name}(): ${inner.message}`;
    ctx.report(source, inner.rule, message);
  }
}

/** Holding a denied function is as good as calling it: `f = os.system`, `Thread(target=system)`. */
function checkReference(ctx: CheckContext, node: Node): void {
  const hits = [...ctx.resolve(node)].filter((t) => ctx.rules.deniedCall(t) || DANGEROUS_REFERENCES.has(t));
  // Parent lookups are slow in tree-sitter 0.25 (a descent from the root), so only hits pay for them.
  if (hits.length === 0 || isBinding(node)) return;
  if (node.parent?.type === 'call' && fieldOf(node) === 'function') return;
  for (const target of hits) {
    const denied = ctx.rules.deniedCall(target);
    if (denied) {
      const what = spelled(node, denied.target, (t) => t);
      const message = `Referencing ${what} is not allowed: it could be called under another name, and it ${denied.why}.`;
      ctx.report(node, `attribute:${denied.target}`, message);
    } else if (target === 'sys.modules') {
      const message = 'sys.modules is not allowed: it hands out any module by a computed name.';
      ctx.report(node, 'dynamic:sys.modules', message);
    } else {
      const message = `Holding ${target} without calling it is not allowed: it could run anything.`;
      ctx.report(node, `dynamic:${IMPORTERS.get(target) ?? target}`, message);
    }
  }
}

/** Names the alias the user wrote next to the rule's name: "s(), which is os.system(),". */
function spelled(node: Node, target: string, show: (name: string) => string): string {
  const text = node.text;
  if (text === target || text.length > 60 || /\s/.test(text)) return show(target);
  return `${show(text)}, which is ${show(target)},`;
}
