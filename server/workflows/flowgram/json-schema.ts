import type { JsonSchemaDecl } from './schema.js';

/**
 * The start node's input check, with FlowGram's own messages (clients match on them): the first problem
 * found, walking required keys, then declared properties, then additionalProperties, depth first.
 */
export type Check = { ok: true } | { ok: false; message: string };

const ROOT = 'root';
const child = (path: string, key: string) => (path === ROOT ? key : `${path}.${key}`);
const OK: Check = { ok: true };
const fail = (message: string): Check => ({ ok: false, message });

export function validateJson(value: unknown, schema: JsonSchemaDecl, path = ROOT): Check {
  if (schema.$ref) return OK;
  if (schema.enum && schema.enum.length > 0 && !schema.enum.includes(value)) {
    return fail(
      `Value at ${path} must be one of: ${schema.enum.join(', ')}, but got: ${JSON.stringify(value)}`,
    );
  }
  switch (schema.type) {
    case 'boolean':
      return typeof value === 'boolean' ? OK : fail(`Expected boolean at ${path}, but got: ${typeof value}`);
    case 'string':
      return typeof value === 'string' ? OK : fail(`Expected string at ${path}, but got: ${typeof value}`);
    case 'integer':
      return Number.isInteger(value)
        ? OK
        : fail(`Expected integer at ${path}, but got: ${JSON.stringify(value)}`);
    case 'number':
      return typeof value === 'number' && !Number.isNaN(value)
        ? OK
        : fail(`Expected number at ${path}, but got: ${JSON.stringify(value)}`);
    case 'object':
      return validateObject(value, schema, path);
    case 'array':
      return validateArray(value, schema, path);
    case 'map':
      return validateMap(value, schema, path);
    default:
      return fail(`Unknown type "${schema.type}" at ${path}`);
  }
}

function kindOf(value: unknown): string {
  return Array.isArray(value) ? 'array' : typeof value;
}

function validateObject(value: unknown, schema: JsonSchemaDecl, path: string): Check {
  if (value === null || value === undefined) return fail(`Expected object at ${path}, but got: ${value}`);
  if (typeof value !== 'object' || Array.isArray(value))
    return fail(`Expected object at ${path}, but got: ${kindOf(value)}`);
  const obj = value as Record<string, unknown>;
  for (const key of schema.required ?? []) {
    if (!(key in obj)) return fail(`Missing required property "${key}" at ${path}`);
  }
  const props = schema.properties ?? {};
  for (const [key, decl] of Object.entries(props)) {
    if (key in obj) {
      const r = validateJson(obj[key], decl, child(path, key));
      if (!r.ok) return r;
    }
  }
  if (schema.additionalProperties) {
    for (const [key, v] of Object.entries(obj)) {
      if (key in props) continue;
      const r = validateJson(v, schema.additionalProperties, child(path, key));
      if (!r.ok) return r;
    }
  }
  return OK;
}

function validateArray(value: unknown, schema: JsonSchemaDecl, path: string): Check {
  if (!Array.isArray(value)) return fail(`Expected array at ${path}, but got: ${typeof value}`);
  if (schema.items) {
    for (const [i, item] of value.entries()) {
      const r = validateJson(item, schema.items, `${path}[${i}]`);
      if (!r.ok) return r;
    }
  }
  return OK;
}

function validateMap(value: unknown, schema: JsonSchemaDecl, path: string): Check {
  if (value === null || value === undefined) return fail(`Expected map at ${path}, but got: ${value}`);
  if (typeof value !== 'object' || Array.isArray(value))
    return fail(`Expected map at ${path}, but got: ${kindOf(value)}`);
  if (schema.additionalProperties) {
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      const r = validateJson(v, schema.additionalProperties, child(path, key));
      if (!r.ok) return r;
    }
  }
  return OK;
}
