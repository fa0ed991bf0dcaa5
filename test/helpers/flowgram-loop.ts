/**
 * A FlowGram schema for the benchmark and the CLI/SDK/monitor tests: a loop over N items whose body is one
 * code node, so a run is N code node executions plus the loop's own bookkeeping (block-start, block-end)
 * per iteration. `loopSchema(code)` swaps in another code node body (a failing or runaway one).
 */
export const LOOP_CODE = `async function main({ params }) {
  return { doubled: params.item * 2, index: params.index };
}`;

const ref = (...content: string[]) => ({ type: 'ref', content });

export function loopSchema(code = LOOP_CODE): Record<string, unknown> {
  return {
    nodes: [
      {
        id: 'start_0',
        type: 'start',
        meta: { position: { x: 0, y: 0 } },
        data: {
          title: 'Start',
          outputs: {
            type: 'object',
            properties: { items: { type: 'array', items: { type: 'number' } } },
            required: ['items'],
          },
        },
      },
      {
        id: 'loop_0',
        type: 'loop',
        meta: { position: { x: 400, y: 0 } },
        data: {
          title: 'Loop',
          loopFor: ref('start_0', 'items'),
          loopOutputs: { results: ref('code_0', 'doubled') },
        },
        blocks: [
          { id: 'block_start_0', type: 'block-start', meta: { position: { x: 0, y: 0 } }, data: {} },
          {
            id: 'code_0',
            type: 'code',
            meta: { position: { x: 200, y: 0 } },
            data: {
              title: 'Double',
              inputsValues: { item: ref('loop_0_locals', 'item'), index: ref('loop_0_locals', 'index') },
              inputs: {
                type: 'object',
                properties: { item: { type: 'number' }, index: { type: 'number' } },
              },
              script: { language: 'javascript', content: code },
              outputs: {
                type: 'object',
                properties: { doubled: { type: 'number' }, index: { type: 'number' } },
              },
            },
          },
          { id: 'block_end_0', type: 'block-end', meta: { position: { x: 400, y: 0 } }, data: {} },
        ],
        edges: [
          { sourceNodeID: 'block_start_0', targetNodeID: 'code_0' },
          { sourceNodeID: 'code_0', targetNodeID: 'block_end_0' },
        ],
      },
      {
        id: 'end_0',
        type: 'end',
        meta: { position: { x: 800, y: 0 } },
        data: {
          title: 'End',
          inputs: { type: 'object', properties: { results: { type: 'array', items: { type: 'number' } } } },
          inputsValues: { results: ref('loop_0', 'results') },
        },
      },
    ],
    edges: [
      { sourceNodeID: 'start_0', targetNodeID: 'loop_0' },
      { sourceNodeID: 'loop_0', targetNodeID: 'end_0' },
    ],
  };
}

export function loopInputs(iterations: number): { items: number[] } {
  return { items: Array.from({ length: iterations }, (_, i) => i) };
}

/** What a correct run returns: checked for both engines so the benchmark never times a wrong answer. */
export function expectedResults(iterations: number): number[] {
  return Array.from({ length: iterations }, (_, i) => i * 2);
}
