import type { FlowValue, NodeSchema, WorkflowSchema } from './schema.js';

function* allNodes(nodes: NodeSchema[]): Generator<NodeSchema> {
  for (const n of nodes) {
    yield n;
    if (n.blocks) yield* allNodes(n.blocks);
  }
}

/** Headers whose values are credentials. */
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|apikey)$|token|secret/i;

/**
 * The credentials a run will use, known before it starts: llm `apiKey` values and credential headers of
 * http nodes, written as constants or taken from the workflow's inputs (by ref or template). They are
 * scrubbed from the stored input, every event and the report.
 */
export function runSecrets(schema: WorkflowSchema, inputs: Record<string, unknown>): string[] {
  const startId = schema.nodes.find((n) => n.type === 'start')?.id;
  const out: string[] = [];
  const fromInputs = (ref: string[]) => {
    const [source, key, ...path] = ref;
    if (source !== startId || key === undefined) return;
    let value: unknown = inputs[key];
    for (const p of path) value = (value as Record<string, unknown> | undefined)?.[p];
    if (typeof value === 'string') out.push(value);
  };
  const collect = (v: FlowValue | undefined) => {
    if (!v) return;
    if (v.type === 'constant' && typeof v.content === 'string') out.push(v.content);
    if (v.type === 'ref' && Array.isArray(v.content)) fromInputs(v.content as string[]);
    if (v.type === 'template' && typeof v.content === 'string') {
      for (const m of v.content.matchAll(/\{\{([^}]+)\}\}/g)) fromInputs((m[1] ?? '').trim().split('.'));
    }
  };
  for (const node of allNodes(schema.nodes)) {
    if (node.type === 'llm') collect(node.data.inputsValues?.['apiKey']);
    if (node.type === 'http') {
      const headers = (node.data['headersValues'] ?? {}) as Record<string, FlowValue>;
      for (const [name, v] of Object.entries(headers)) if (SECRET_HEADER.test(name)) collect(v);
    }
  }
  return out;
}
