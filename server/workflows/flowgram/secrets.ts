import type { NodeSchema, WorkflowSchema } from './schema.js';

function* allNodes(nodes: NodeSchema[]): Generator<NodeSchema> {
  for (const n of nodes) {
    yield n;
    if (n.blocks) yield* allNodes(n.blocks);
  }
}

/**
 * The API keys a run will use, known before it starts: llm `apiKey` constants, and workflow inputs an
 * `apiKey` refers to. They are scrubbed from the stored input, every event and the report.
 */
export function runSecrets(schema: WorkflowSchema, inputs: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const node of allNodes(schema.nodes)) {
    if (node.type !== 'llm') continue;
    const v = node.data.inputsValues?.['apiKey'];
    if (!v) continue;
    if (v.type === 'constant' && typeof v.content === 'string') out.push(v.content);
    if (v.type === 'ref' && Array.isArray(v.content)) {
      const [source, key, ...path] = v.content as string[];
      const start = schema.nodes.find((n) => n.type === 'start');
      if (source !== start?.id || key === undefined) continue;
      let value: unknown = inputs[key];
      for (const p of path) value = (value as Record<string, unknown> | undefined)?.[p];
      if (typeof value === 'string') out.push(value);
    }
  }
  return out;
}
