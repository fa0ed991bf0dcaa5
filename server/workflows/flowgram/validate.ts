import { validateJson } from './json-schema.js';
import type { JsonSchemaDecl } from './schema.js';

/**
 * FlowGram's schema checks with FlowGram's messages: every check runs and every failure is reported, in the
 * order FlowGram reports them. The checks walk the schema as it came (not yet trusted), so a malformed one
 * fails inside a check and that failure is reported too, as FlowGram's own runtime does.
 */
export interface ValidationResult {
  valid: boolean;
  errors?: string[];
}

// The shape the checks expect; the value may be anything (the checks exist to find out).
interface LNode {
  id: string;
  type: string;
  meta?: unknown;
  data: { outputs?: JsonSchemaDecl } & Record<string, unknown>;
  blocks?: LNode[];
  edges?: LEdge[];
}
interface LEdge {
  sourceNodeID: string;
  targetNodeID: string;
  sourcePortID?: unknown;
  targetPortID?: unknown;
}
interface LSchema {
  nodes: LNode[];
  edges: LEdge[];
}

export function validateSchema(input: unknown): ValidationResult {
  const schema = input as LSchema;
  const errors: string[] = [];
  const checks = [
    () => schemaFormat(schema),
    () => cycleDetection(schema),
    () => edgeSourceTargetExist(schema),
    () => startEndNode(schema),
  ];
  for (const check of checks) {
    try {
      check();
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  return errors.length ? { valid: false, errors } : { valid: true };
}

/** The start node's declared outputs, i.e. the workflow's inputs. */
export function inputsDeclare(schema: {
  nodes: Array<{ type: string; data: unknown }>;
}): JsonSchemaDecl | undefined {
  const start = schema.nodes.find((n) => n.type === 'start');
  return (start?.data as { outputs?: JsonSchemaDecl } | undefined)?.outputs;
}

export function validateInputs(declare: JsonSchemaDecl | undefined, inputs: unknown): ValidationResult {
  let message: string | undefined;
  try {
    const r = validateJson(inputs, declare as JsonSchemaDecl);
    if (!r.ok) message = r.message;
  } catch (err) {
    message = `Validation error: ${err instanceof Error ? err.message : String(err)}`;
  }
  return message ? { valid: false, errors: [`JSON Schema validation failed: ${message}`] } : { valid: true };
}

/** Schema checks, then (only if they pass) the inputs against the start node's declaration. */
export function validateWorkflow(schema: unknown, inputs: unknown): ValidationResult {
  const structural = validateSchema(schema);
  if (!structural.valid) return structural;
  return validateInputs(inputsDeclare(schema as LSchema), inputs);
}

function schemaFormat(schema: LSchema): void {
  if (!schema || typeof schema !== 'object') throw new Error('Workflow schema must be a valid object');
  if (!Array.isArray(schema.nodes)) throw new Error('Workflow schema must have a valid nodes array');
  if (!Array.isArray(schema.edges)) throw new Error('Workflow schema must have a valid edges array');
  schema.nodes.forEach((node, i) => {
    nodeFormat(node, `nodes[${i}]`);
  });
  schema.edges.forEach((edge, i) => {
    edgeFormat(edge, `edges[${i}]`);
  });
  schema.nodes.forEach((node, i) => {
    if (node.blocks) {
      if (!Array.isArray(node.blocks)) throw new Error(`Node nodes[${i}].blocks must be an array`);
      schemaFormat({ nodes: node.blocks, edges: node.edges || [] });
    }
  });
}

function isObject(v: unknown): boolean {
  return !!v && typeof v === 'object';
}

function nodeFormat(node: LNode, path: string): void {
  if (!isObject(node)) throw new Error(`${path} must be a valid object`);
  if (typeof node.id !== 'string' || !node.id.trim())
    throw new Error(`${path}.id must be a non-empty string`);
  if (typeof node.type !== 'string' || !node.type.trim())
    throw new Error(`${path}.type must be a non-empty string`);
  if (!isObject(node.meta)) throw new Error(`${path}.meta must be a valid object`);
  if (!isObject(node.data)) throw new Error(`${path}.data must be a valid object`);
  if (node.blocks !== undefined && !Array.isArray(node.blocks))
    throw new Error(`${path}.blocks must be an array if present`);
  if (node.edges !== undefined && !Array.isArray(node.edges))
    throw new Error(`${path}.edges must be an array if present`);
  for (const key of ['inputs', 'outputs', 'inputsValues'] as const) {
    const v = node.data[key];
    if (v !== undefined && (typeof v !== 'object' || v === null))
      throw new Error(`${path}.data.${key} must be a valid object if present`);
  }
  if (node.data['title'] !== undefined && typeof node.data['title'] !== 'string')
    throw new Error(`${path}.data.title must be a string if present`);
}

function edgeFormat(edge: LEdge, path: string): void {
  if (!isObject(edge)) throw new Error(`${path} must be a valid object`);
  if (typeof edge.sourceNodeID !== 'string' || !edge.sourceNodeID.trim())
    throw new Error(`${path}.sourceNodeID must be a non-empty string`);
  if (typeof edge.targetNodeID !== 'string' || !edge.targetNodeID.trim())
    throw new Error(`${path}.targetNodeID must be a non-empty string`);
  if (edge.sourcePortID !== undefined && typeof edge.sourcePortID !== 'string')
    throw new Error(`${path}.sourcePortID must be a string if present`);
  if (edge.targetPortID !== undefined && typeof edge.targetPortID !== 'string')
    throw new Error(`${path}.targetPortID must be a string if present`);
}

function cycleDetection(schema: LSchema): void {
  const { nodes, edges } = schema;
  const ids = new Set(nodes.map((node) => node.id));
  const next = new Map<string, string[]>([...ids].map((id) => [id, []]));
  edges.forEach((edge) => {
    next.get(edge.sourceNodeID)?.push(edge.targetNodeID);
  });
  // 0 unvisited, 1 on the current path, 2 done: meeting a node on the path closes a cycle.
  const state = new Map<string, 0 | 1 | 2>([...ids].map((id) => [id, 0]));
  const visit = (id: string): boolean => {
    state.set(id, 1);
    for (const n of next.get(id) ?? []) {
      const s = state.get(n);
      if (s === 1) return true;
      if (s === 0 && visit(n)) return true;
    }
    state.set(id, 2);
    return false;
  };
  for (const id of ids) {
    if (state.get(id) === 0 && visit(id))
      throw new Error('Workflow schema contains a cycle, which is not allowed');
  }
  nodes.forEach((node) => {
    if (node.blocks) cycleDetection({ nodes: node.blocks, edges: node.edges ?? [] });
  });
}

function edgeSourceTargetExist(schema: LSchema): void {
  const { nodes, edges } = schema;
  const ids = new Set(nodes.map((node) => node.id));
  edges.forEach((edge) => {
    if (!ids.has(edge.sourceNodeID))
      throw new Error(`Workflow schema edge source node "${edge.sourceNodeID}" not exist`);
    if (!ids.has(edge.targetNodeID))
      throw new Error(`Workflow schema edge target node "${edge.targetNodeID}" not exist`);
  });
  nodes.forEach((node) => {
    if (node.blocks) edgeSourceTargetExist({ nodes: node.blocks, edges: node.edges ?? [] });
  });
}

function countTypes(schema: LSchema, a: string, b: string): [number, number] {
  return schema.nodes.reduce<[number, number]>(
    (acc, node) => {
      if (node.type === a) acc[0] += 1;
      else if (node.type === b) acc[1] += 1;
      return acc;
    },
    [0, 0],
  );
}

function blockStartEndNode(schema: LSchema): void {
  const [starts, ends] = countTypes(schema, 'block-start', 'block-end');
  if (!starts && !ends)
    throw new Error('Workflow block schema must have a block-start node and a block-end node');
  if (!starts) throw new Error('Workflow block schema must have a block-start node');
  if (!ends) throw new Error('Workflow block schema must have an block-end node');
  if (starts > 1) throw new Error('Workflow block schema must have only one block-start node');
  if (ends > 1) throw new Error('Workflow block schema must have only one block-end node');
  nestedBlocks(schema);
}

function nestedBlocks(schema: LSchema): void {
  schema.nodes.forEach((node) => {
    if (node.blocks) blockStartEndNode({ nodes: node.blocks, edges: node.edges ?? [] });
  });
}

function startEndNode(schema: LSchema): void {
  const [starts, ends] = countTypes(schema, 'start', 'end');
  if (!starts && !ends) throw new Error('Workflow schema must have a start node and an end node');
  if (!starts) throw new Error('Workflow schema must have a start node');
  if (!ends) throw new Error('Workflow schema must have an end node');
  if (starts > 1) throw new Error('Workflow schema must have only one start node');
  if (ends > 1) throw new Error('Workflow schema must have only one end node');
  nestedBlocks(schema);
}
