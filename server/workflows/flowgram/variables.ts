import type { TypedValue, VariableType } from './schema.js';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z?$/;

/** The FlowGram type of a runtime value (integers and ISO date strings are their own types). */
export function typeOf(value: unknown): VariableType | null {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') {
    if (ISO_8601.test(value) && !Number.isNaN(new Date(value).getTime())) return 'date-time';
    return 'string';
  }
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  return null;
}

/** Number and integer are interchangeable; every other type only matches itself. */
export function sameType(a: string | undefined, b: string | undefined): boolean {
  if ((a === 'number' && b === 'integer') || (a === 'integer' && b === 'number')) return true;
  return a === b;
}

function getPath(value: unknown, path: string[]): unknown {
  let cur = value;
  for (const key of path) {
    if (cur === null || cur === undefined) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * Node outputs by node id and key. A loop iteration gets a child store: it sees the outer variables and keeps
 * its own (the iteration's node outputs and `<loop>_locals`) to itself.
 */
export class VariableStore {
  private readonly nodes = new Map<string, Map<string, TypedValue>>();

  constructor(private readonly parent?: VariableStore) {}

  child(): VariableStore {
    return new VariableStore(this);
  }

  private lookup(nodeID: string): Map<string, TypedValue> | undefined {
    return this.nodes.get(nodeID) ?? this.parent?.lookup(nodeID);
  }

  set(nodeID: string, key: string, variable: TypedValue): void {
    let vars = this.nodes.get(nodeID);
    if (!vars) {
      vars = new Map();
      this.nodes.set(nodeID, vars);
    }
    vars.set(key, variable);
  }

  get(nodeID: string, key: string, path: string[]): TypedValue | null {
    const variable = this.lookup(nodeID)?.get(key);
    if (!variable) return null;
    if (path.length === 0) return { ...variable };
    const value = getPath(variable.value, path);
    const type = typeOf(value);
    if (!type) return null;
    if (type === 'array' && Array.isArray(value)) {
      const itemsType = typeOf(value[0]);
      return itemsType ? { value, type, itemsType } : null;
    }
    return { value, type };
  }
}
