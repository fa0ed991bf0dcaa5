import type { Node, Parser } from 'web-tree-sitter';
import { createResolver, dottedText, type Resolve } from './resolver.js';
import { canonicalName, NAMESPACE, type RuleSet } from './rule-set.js';
import {
  argument,
  fieldOf,
  isBinding,
  positionalArgs,
  positionOf,
  stringValue,
  walkNamed,
} from './syntax.js';
import type { PolicyViolation } from './types.js';

export interface AnalysisEnv {
  parser: Parser;
  rules: RuleSet;
}

/** `eval('eval("...")')` is checked this many strings deep; deeper is refused as unreadable. */
const MAX_NESTING = 3;
const EVALUATORS = new Set(['eval', 'exec', 'compile']);
const IMPORTERS: Record<string, string> = {
  __import__: '__import__',
  'importlib.__import__': '__import__',
  'importlib.import_module': 'importlib.import_module',
};
const ATTRIBUTE_FUNCTIONS = new Set(['getattr', 'setattr', 'delattr']);
/** Held without a call these can still run anything later, e.g. `map(eval, lines)`. */
const DANGEROUS_REFERENCES = new Set(['eval', 'exec', 'compile', ...Object.keys(IMPORTERS)]);
const MAPPING_READS = new Set(['get', '__getitem__', 'pop', 'setdefault']);

/** Every violation in `code`, before modes and `allow` are applied. Syntax errors are skipped, not refused. */
export function analyzeSource(code: string, env: AnalysisEnv, nesting = 0): PolicyViolation[] {
  const tree = env.parser.parse(code);
  if (!tree) throw new Error('tree-sitter produced no tree');
  try {
    return new Analyzer(tree.rootNode, env, nesting).run();
  } finally {
    tree.delete();
  }
}

class Analyzer {
  private readonly resolve: Resolve;
  private readonly found = new Map<string, PolicyViolation>();

  constructor(
    private readonly root: Node,
    private readonly env: AnalysisEnv,
    private readonly nesting: number,
  ) {
    this.resolve = createResolver(root, env.rules);
  }

  run(): PolicyViolation[] {
    walkNamed(this.root, (node) => {
      switch (node.type) {
        case 'import_statement':
          for (const item of node.childrenForFieldName('name')) {
            const dotted = item?.type === 'aliased_import' ? item.childForFieldName('name') : item;
            if (dotted) this.checkImport(dotted, dottedText(dotted));
          }
          break;
        case 'import_from_statement':
          this.checkFromImport(node);
          break;
        case 'call':
          this.checkCall(node);
          break;
        case 'subscript':
          this.checkSubscript(node);
          break;
        case 'attribute':
          this.checkDunderDict(node);
          this.checkReference(node);
          break;
        case 'identifier':
          this.checkReference(node);
          break;
      }
    });
    return [...this.found.values()];
  }

  private report(node: Node, rule: string, message: string): void {
    const key = `${rule}@${node.startIndex}`;
    if (!this.found.has(key)) this.found.set(key, { rule, message, ...positionOf(node) });
  }

  private checkImport(node: Node, module: string): boolean {
    const denied = this.env.rules.deniedImport(canonicalName(module));
    if (denied) {
      this.report(
        node,
        `import:${denied.target}`,
        `Importing ${module} is not allowed: ${denied.target} ${denied.why}.`,
      );
    }
    return denied !== null;
  }

  private checkFromImport(node: Node): void {
    const moduleNode = node.childForFieldName('module_name');
    // Relative imports name the caller's own package, which no rule can know.
    if (moduleNode?.type !== 'dotted_name') return;
    const module = dottedText(moduleNode);
    if (this.checkImport(moduleNode, module)) return;
    for (const item of node.childrenForFieldName('name')) {
      const dotted = item?.type === 'aliased_import' ? item.childForFieldName('name') : item;
      if (dotted) this.checkImport(dotted, `${module}.${dottedText(dotted)}`);
    }
  }

  private checkCall(call: Node): void {
    const fn = call.childForFieldName('function');
    if (!fn) return;
    const rules = this.env.rules;
    for (const name of this.resolve(fn)) {
      const denied = rules.deniedCall(name);
      if (denied) {
        this.report(
          call,
          `call:${denied.target}`,
          `Calling ${denied.target}() is not allowed: it ${denied.why}.`,
        );
      }
      if (EVALUATORS.has(name)) this.checkEvaluated(call, name);
      const importer = IMPORTERS[name];
      if (importer !== undefined) this.checkImporter(call, name, importer);
      if (ATTRIBUTE_FUNCTIONS.has(name)) this.checkAttributeFunction(call, name);
      if (name === 'vars') {
        const [object] = positionalArgs(call);
        if (object && this.isGuarded(object)) {
          this.report(call, 'dynamic:vars', 'vars() of a denied module or the builtins is not allowed.');
        }
      }
    }
    const method = fn.type === 'attribute' ? fn.childForFieldName('attribute')?.text : undefined;
    const owner = fn.childForFieldName('object');
    if (method && owner && MAPPING_READS.has(method))
      this.checkMappingRead(call, owner, argument(call, 0, 'key'));
  }

  /** eval/exec/compile take a literal only; the literal's own code is then held to the same rules. */
  private checkEvaluated(call: Node, name: string): void {
    const source = argument(call, 0, 'source');
    if (!source) return;
    const code = stringValue(source);
    if (code === null || this.nesting >= MAX_NESTING) {
      const what = code === null ? 'anything but a plain string literal' : 'strings nested this deep';
      this.report(
        call,
        `dynamic:${name}`,
        `${name}() of ${what} is not allowed: its code cannot be checked.`,
      );
      return;
    }
    for (const inner of analyzeSource(code, this.env, this.nesting + 1)) {
      this.report(source, inner.rule, `In the code passed to ${name}(): ${inner.message}`);
    }
  }

  private checkImporter(call: Node, name: string, rule: string): void {
    const arg = argument(call, 0, 'name');
    if (!arg) return;
    const module = stringValue(arg);
    if (module === null) {
      this.report(call, `dynamic:${rule}`, `${name}() of a computed module name is not allowed.`);
    } else if (!module.startsWith('.')) {
      this.checkImport(call, module);
    }
  }

  private checkAttributeFunction(call: Node, name: string): void {
    const [object, attr] = positionalArgs(call);
    if (!object) return;
    const targets = this.resolve(object);
    if (targets.has('builtins')) {
      this.report(call, `dynamic:${name}`, `${name}() on the builtins is not allowed.`);
      return;
    }
    const modules = [...targets].filter((t) => this.env.rules.isSensitiveModule(t));
    if (modules.length === 0) return;
    const attrName = stringValue(attr ?? null);
    if (attrName === null) {
      const where = modules.join(', ');
      this.report(call, `dynamic:${name}`, `${name}() on ${where} with a computed name is not allowed.`);
      return;
    }
    if (name !== 'getattr') return;
    for (const module of modules) {
      const denied = this.env.rules.deniedCall(canonicalName(`${module}.${attrName}`));
      if (denied) {
        const message = `getattr(${module}, '${attrName}') reaches ${denied.target}, which is not allowed: it ${denied.why}.`;
        this.report(call, `getattr:${denied.target}`, message);
      }
    }
  }

  private checkSubscript(node: Node): void {
    const value = node.childForFieldName('value');
    if (!value) return;
    const key = node.childForFieldName('subscript');
    this.checkMappingRead(node, value, key);
    const module = stringValue(key);
    if (module !== null && this.resolve(value).has('sys.modules')) this.checkImport(node, module);
  }

  /** `globals()['__builtins__']`, `globals().get(name)`, `__builtins__['eval']`. */
  private checkMappingRead(node: Node, mapping: Node, key: Node | null): void {
    const targets = this.resolve(mapping);
    if (targets.has('builtins')) {
      this.report(node, 'dynamic:__builtins__', 'Indexing the builtins mapping is not allowed.');
    }
    if (!targets.has(NAMESPACE)) return;
    const name = stringValue(key);
    if (name === null || /^__.*__$/.test(name)) {
      const what = name === null ? 'a computed key' : `'${name}'`;
      this.report(
        node,
        'dynamic:globals',
        `Reading globals(), locals() or vars() with ${what} is not allowed.`,
      );
    }
  }

  private checkDunderDict(node: Node): void {
    const object = node.childForFieldName('object');
    if (node.childForFieldName('attribute')?.text !== '__dict__' || !object || !this.isGuarded(object))
      return;
    this.report(
      node,
      'dynamic:__dict__',
      `${object.text}.__dict__ is not allowed: it reaches every attribute by name.`,
    );
  }

  /** Holding a denied function is as good as calling it: `f = os.system`, `Thread(target=system)`. */
  private checkReference(node: Node): void {
    const parent = node.parent;
    if (parent?.type === 'call' && fieldOf(node) === 'function') return;
    const targets = this.resolve(node);
    const hits = [...targets].filter((t) => this.env.rules.deniedCall(t) || DANGEROUS_REFERENCES.has(t));
    if (hits.length === 0 || isBinding(node)) return;
    for (const target of hits) {
      const denied = this.env.rules.deniedCall(target);
      if (denied) {
        const message = `Referencing ${denied.target} is not allowed: it could be called under another name, and it ${denied.why}.`;
        this.report(node, `attribute:${denied.target}`, message);
      } else {
        const rule = IMPORTERS[target] ?? target;
        this.report(
          node,
          `dynamic:${rule}`,
          `Holding ${target} without calling it is not allowed: it could run anything.`,
        );
      }
    }
  }

  /** Where a computed attribute name could land on something denied. */
  private isGuarded(node: Node): boolean {
    return [...this.resolve(node)].some((t) => this.env.rules.isSensitiveModule(t));
  }
}
