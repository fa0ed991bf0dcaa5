import type { Node } from 'web-tree-sitter';

/**
 * The nodes of the given types, found by one traversal inside the wasm module so only matches cross into
 * JS (a JS-side walk over every token costs more than the parse). Each node's type is read once and kept
 * by id, because `node.type` is itself a wasm round trip.
 */
export class NodeIndex {
  private readonly byType = new Map<string, Node[]>();
  private readonly typeById = new Map<number, string>();

  constructor(root: Node, types: ReadonlySet<string>) {
    for (const node of root.descendantsOfType([...types])) {
      if (!node) continue;
      const type = node.type;
      this.typeById.set(node.id, type);
      const group = this.byType.get(type);
      if (group) group.push(node);
      else this.byType.set(type, [node]);
    }
  }

  of(type: string): readonly Node[] {
    return this.byType.get(type) ?? [];
  }

  typeOf(node: Node): string {
    return this.typeById.get(node.id) ?? node.type;
  }
}

/**
 * An identifier as Python reads it: the tokenizer NFKC-normalises identifiers, so `ｓubprocess` and
 * `subprocess` name the same module and must match the same rules.
 */
export function nameOf(node: Node): string {
  return normalized(node.text);
}

export function normalized(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII test, the common fast path
  return /^[\x00-\x7f]*$/.test(text) ? text : text.normalize('NFKC');
}

/** 1-based line and column, as the violations report them. */
export function positionOf(node: Node): { line: number; column: number } {
  return { line: node.startPosition.row + 1, column: node.startPosition.column + 1 };
}

export function fieldOf(node: Node): string | null {
  const parent = node.parent;
  if (!parent) return null;
  for (let i = 0; i < parent.childCount; i++) {
    if (parent.child(i)?.id === node.id) return parent.fieldNameForChild(i);
  }
  return null;
}

/** Arguments before the first keyword; a `*args` splat stays in the list so callers see it is not literal. */
export function positionalArgs(call: Node): Node[] {
  const list = call.childForFieldName('arguments');
  if (list?.type !== 'argument_list') return [];
  const args: Node[] = [];
  for (const child of list.namedChildren) {
    if (!child || child.type === 'comment') continue;
    if (child.type === 'keyword_argument' || child.type === 'dictionary_splat') break;
    args.push(child);
  }
  return args;
}

/** The argument passed at `index` or as `keyword`, whichever the call used. */
export function argument(call: Node, index: number, keyword: string): Node | null {
  const positional = positionalArgs(call);
  if (positional.length > index) return positional[index] ?? null;
  const list = call.childForFieldName('arguments');
  for (const child of list?.namedChildren ?? []) {
    if (child?.type === 'dictionary_splat') return child;
    if (child?.type === 'keyword_argument' && child.childForFieldName('name')?.text === keyword) {
      return child.childForFieldName('value');
    }
  }
  return null;
}

export function hasArguments(call: Node): boolean {
  return (call.childForFieldName('arguments')?.namedChildren ?? []).some((c) => c?.type !== 'comment');
}

const PATTERN_DEPTH = 12;
const CONTAINERS = new Set([
  'pattern_list',
  'tuple_pattern',
  'list_pattern',
  'tuple',
  'list',
  'parenthesized_expression',
  'list_splat_pattern',
  'dictionary_splat_pattern',
  'list_splat',
  'as_pattern_target',
]);

/**
 * Whether an identifier or attribute names something being defined, assigned or imported rather than read:
 * `def system()`, `f(system=1)`, `x.system`'s right side, `system = 1`, `from os import system`.
 */
export function isBinding(node: Node): boolean {
  const parent = node.parent;
  if (!parent) return false;
  const field = fieldOf(node);
  switch (parent.type) {
    case 'attribute':
      return field === 'attribute';
    case 'keyword_argument':
    case 'function_definition':
    case 'class_definition':
    case 'default_parameter':
    case 'typed_default_parameter':
    case 'named_expression':
      return field === 'name';
    case 'typed_parameter':
      return field !== 'type';
    case 'parameters':
    case 'lambda_parameters':
    case 'global_statement':
    case 'nonlocal_statement':
    case 'delete_statement':
    case 'dotted_name':
    case 'aliased_import':
    case 'import_statement':
    case 'import_from_statement':
    case 'keyword_pattern':
      return true;
  }
  let target: Node = node;
  for (let up: Node | null = target.parent; up && CONTAINERS.has(up.type); up = up.parent) {
    if (up.type === 'as_pattern_target') return true;
    target = up;
  }
  const owner = target.parent?.type;
  if (
    (owner === 'assignment' ||
      owner === 'augmented_assignment' ||
      owner === 'for_statement' ||
      owner === 'for_in_clause') &&
    fieldOf(target) === 'left'
  ) {
    return true;
  }
  // Capture patterns sit a few levels under their `case`; each `.parent` is a descent from the root, so
  // climbing a hostile 20,000-deep chain to the top would be quadratic.
  let up: Node | null = parent;
  for (let level = 0; up && level < PATTERN_DEPTH; level++, up = up.parent) {
    if (up.type === 'case_pattern') return true;
  }
  return false;
}

/**
 * The value of a plain string literal, or null for anything computed: f-strings, t-strings, implicit or
 * explicit concatenation, and escapes we cannot decode (`\N{...}`).
 */
export function stringValue(node: Node | null): string | null {
  if (node?.type !== 'string') return null;
  const start = node.child(0);
  const end = node.lastChild;
  if (start?.type !== 'string_start' || end?.type !== 'string_end') return null;
  if (node.namedChildren.some((c) => c?.type === 'interpolation')) return null;
  const prefix = start.text.replace(/['"]+$/, '').toLowerCase();
  if (prefix.includes('f') || prefix.includes('t')) return null;
  const body = node.text.slice(start.text.length, node.text.length - end.text.length);
  // Strings are normalised too (Python does not): conservative, so `getattr(os, 'ｓystem')` matches.
  const value = prefix.includes('r') ? body : decodeEscapes(body);
  return value === null ? null : normalized(value);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\n': '',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

function decodeEscapes(body: string): string | null {
  let undecodable = false;
  const decoded = body.replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|N\{[^}]*\}|\r\n|[\s\S])/g,
    (whole, esc: string) => {
      const simple = SIMPLE_ESCAPES[esc];
      if (simple !== undefined) return simple;
      if (esc === '\r\n') return '';
      const code = /^[xuU]/.test(esc)
        ? Number.parseInt(esc.slice(1), 16)
        : /^[0-7]/.test(esc)
          ? Number.parseInt(esc, 8)
          : null;
      if (code !== null && code <= 0x10ffff) return String.fromCodePoint(code);
      // Python rejects these literals, and \N{...} needs the Unicode name table: either way, not plain.
      if (code !== null || esc.startsWith('N{')) undecodable = true;
      return whole;
    },
  );
  return undecodable ? null : decoded;
}
