import type { FlowValue, JsonSchemaDecl, TypedValue } from './schema.js';
import { sameType, typeOf, type VariableStore } from './variables.js';

const JSON_TYPES = new Set(['object', 'array', 'map']);

/** A declared object/array/map constant may be written as JSON text; FlowGram parses it (and keeps bad JSON as text). */
export function parseJsonContent(content: unknown, declareType: string | undefined): unknown {
  if (declareType && JSON_TYPES.has(declareType) && typeof content === 'string') {
    try {
      return JSON.parse(content) as unknown;
    } catch {
      return content;
    }
  }
  return content;
}

/** Which nodes already ran, in one workflow run or one loop iteration. */
export class RunState {
  readonly executed = new Set<string>();
  /** Break/continue flags of a loop iteration. */
  readonly flags = new Set<'break' | 'continue'>();

  constructor(readonly variables: VariableStore) {}

  /** A fresh state for one loop iteration, seeing this one's variables. */
  sub(): RunState {
    return new RunState(this.variables.child());
  }

  setGlobals(declare: JsonSchemaDecl | undefined): void {
    if (declare?.type !== 'object' || !declare.properties) return;
    for (const [key, info] of Object.entries(declare.properties)) {
      if (!key || !info) continue;
      this.variables.set('global', key, {
        value: parseJsonContent(info.default, info.type),
        type: info.type ?? 'null',
        itemsType: info.items?.type,
      });
    }
  }

  /** Stores what a node returned under its declared outputs, defaults filling what it left out. */
  setNodeOutputs(
    nodeID: string,
    declare: JsonSchemaDecl | undefined,
    outputs: Record<string, unknown>,
  ): void {
    if (declare?.type !== 'object' || !declare.properties) return;
    for (const [key, info] of Object.entries(declare.properties)) {
      if (!key || !info) continue;
      const value = outputs[key] ?? parseJsonContent(info.default, info.type);
      this.variables.set(nodeID, key, { value, type: info.type ?? 'null', itemsType: info.items?.type });
    }
  }

  /** Resolves `inputsValues` against their declaration; a value of the wrong type is left out, as in FlowGram. */
  parseInputs(
    values: Record<string, FlowValue> | undefined,
    declare: JsonSchemaDecl | undefined,
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (!declare || !values) return out;
    for (const [key, flowValue] of Object.entries(values)) {
      const info = declare.properties?.[key];
      if (!info) continue;
      const parsed = this.parseValue(flowValue, info.type);
      if (!parsed || !sameType(parsed.type, info.type)) continue;
      out[key] = parsed.value;
    }
    return out;
  }

  parseRef(ref: unknown): TypedValue | null {
    const r = ref as { type?: string; content?: unknown } | undefined;
    if (r?.type !== 'ref') throw new Error(`Invalid ref value: ${String(ref)}`);
    const content = r.content as string[] | undefined;
    if (!content || content.length < 2) return null;
    const [nodeID, key, ...path] = content as [string, string, ...string[]];
    return this.variables.get(nodeID, key, path);
  }

  parseTemplate(template: unknown): TypedValue | null {
    const t = template as { type?: string; content?: unknown } | undefined;
    if (t?.type !== 'template') throw new Error(`Invalid template value: ${String(template)}`);
    if (!t.content) return null;
    const value = String(t.content).replace(/\{\{([^}]+)\}\}/g, (_match, pattern: string) => {
      const v = this.parseRef({ type: 'ref', content: pattern.trim().split('.') });
      return v ? String(v.value) : '';
    });
    return { type: 'string', value };
  }

  parseValue(flowValue: FlowValue | undefined, declareType: string | undefined): TypedValue | null {
    if (!flowValue?.type) throw new Error(`Invalid flow value type: ${flowValue?.type}`);
    switch (flowValue.type) {
      case 'constant': {
        const value = parseJsonContent(flowValue.content, declareType);
        const type = declareType ?? typeOf(value);
        if (value === null || value === undefined || !type) return null;
        return { value, type };
      }
      case 'ref':
        return this.parseRef(flowValue);
      case 'template':
        return this.parseTemplate(flowValue);
      default:
        throw new Error(`Unknown flow value type: ${flowValue.type}`);
    }
  }
}
