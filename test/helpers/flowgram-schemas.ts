/** Small FlowGram schemas written for the hub's own tests (the conformance data stays outside the project). */
type Node = Record<string, unknown>;
const meta = { position: { x: 0, y: 0 } };

export const start = (
  props: Record<string, Record<string, unknown>> = {},
  required: string[] = [],
): Node => ({
  id: 'start_0',
  type: 'start',
  meta,
  data: { title: 'Start', outputs: { type: 'object', properties: props, required } },
});

/** A ref and the type it is declared with (FlowGram drops a value whose type differs from the declaration). */
export type Ref = [node: string, key: string, type: string];

function refs(values: Record<string, Ref>) {
  return {
    inputsValues: Object.fromEntries(
      Object.entries(values).map(([k, [n, key]]) => [k, { type: 'ref', content: [n, key] }]),
    ),
    inputs: {
      type: 'object',
      properties: Object.fromEntries(Object.entries(values).map(([k, [, , type]]) => [k, { type }])),
    },
  };
}

export const end = (values: Record<string, Ref>): Node => ({
  id: 'end_0',
  type: 'end',
  meta,
  data: { title: 'End', ...refs(values) },
});

export const llm = (id: string, apiHost: string, prompt: string): Node => ({
  id,
  type: 'llm',
  meta,
  data: {
    title: id,
    inputsValues: {
      modelName: { type: 'constant', content: 'fake-gpt' },
      apiKey: { type: 'constant', content: 'sk-test-secret-key-123456' },
      apiHost: { type: 'constant', content: apiHost },
      temperature: { type: 'constant', content: 0.5 },
      prompt: { type: 'constant', content: prompt },
    },
    inputs: {
      type: 'object',
      properties: {
        modelName: { type: 'string' },
        apiKey: { type: 'string' },
        apiHost: { type: 'string' },
        temperature: { type: 'number' },
        prompt: { type: 'string' },
      },
    },
    outputs: { type: 'object', properties: { result: { type: 'string' } } },
  },
});

export const http = (
  id: string,
  url: string,
  opts: { timeout?: number; retryTimes?: number } = {},
): Node => ({
  id,
  type: 'http',
  meta,
  data: {
    title: id,
    api: { method: 'GET', url: { type: 'template', content: url } },
    headersValues: {},
    headers: { type: 'object', properties: {} },
    paramsValues: {},
    params: { type: 'object', properties: {} },
    body: { bodyType: 'none' },
    timeout: { timeout: opts.timeout ?? 30_000, retryTimes: opts.retryTimes ?? 0 },
    outputs: {
      type: 'object',
      properties: { body: { type: 'string' }, statusCode: { type: 'integer' }, headers: { type: 'object' } },
    },
  },
});

export const code = (
  id: string,
  source: string,
  params: Record<string, Ref> = {},
  outputs: Record<string, string> = { result: 'string' },
): Node => ({
  id,
  type: 'code',
  meta,
  data: {
    title: id,
    ...refs(params),
    script: { language: 'javascript', content: source },
    outputs: {
      type: 'object',
      properties: Object.fromEntries(Object.entries(outputs).map(([k, type]) => [k, { type }])),
    },
  },
});

export const edge = (from: string, to: string, port?: string) => ({
  sourceNodeID: from,
  targetNodeID: to,
  ...(port ? { sourcePortID: port } : {}),
});

export const schemaOf = (nodes: Node[], edges: ReturnType<typeof edge>[]) => ({ nodes, edges });

/** start -> one node -> end, the end reporting the node's `field` as `out`. */
export function single(
  node: Node,
  field: string,
  type = 'string',
  startProps: Record<string, Record<string, unknown>> = {},
) {
  const id = node['id'] as string;
  return schemaOf(
    [start(startProps), node, end({ out: [id, field, type] })],
    [edge('start_0', id), edge(id, 'end_0')],
  );
}
