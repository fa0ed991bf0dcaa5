import { describe, expect, it } from 'vitest';
import { formatMs, stepLine, summaryLine } from '../../client/cli/flow-lines.js';
import { FlowProgress, flowNodesOf } from '../../client/sdk/flow-progress.js';
import type { TaskEvent } from '../../server/protocol/index.js';

let seq = 0;
function event(type: 'node_start' | 'node_end', ms: number, data: Record<string, unknown>): TaskEvent {
  seq += 1;
  return { taskId: 't1', seq, ts: new Date(ms).toISOString(), type, data } as TaskEvent;
}

const SCHEMA = {
  nodes: [
    { id: 'start_0', type: 'start', data: { title: 'Start' } },
    {
      id: 'loop_0',
      type: 'loop',
      data: { title: 'Loop' },
      blocks: [
        { id: 'block_start', type: 'block-start', data: {} },
        { id: 'code_0', type: 'code', data: { title: 'Double' } },
      ],
    },
    { id: 'end_0', type: 'end', data: {} },
  ],
  edges: [],
};

const plain = (_c: string, text: string) => text;

describe('flow progress list', () => {
  it('lists every schema node (blocks included) as waiting, from an object or JSON text', () => {
    const nodes = flowNodesOf(JSON.stringify(SCHEMA));
    expect(nodes.map((n) => n.id)).toEqual(['start_0', 'loop_0', 'block_start', 'code_0', 'end_0']);
    expect(nodes.find((n) => n.id === 'code_0')).toEqual({
      id: 'code_0',
      type: 'code',
      title: 'Double',
      parent: 'loop_0',
    });
    expect(flowNodesOf('{not json')).toEqual([]);
    expect(flowNodesOf(null)).toEqual([]);
    const progress = new FlowProgress(flowNodesOf(SCHEMA));
    expect(progress.nodes.every((n) => n.state === 'waiting' && n.runs === 0)).toBe(true);
  });

  it('follows starts and ends: state, runs per loop iteration, durations, errors', () => {
    const progress = new FlowProgress(flowNodesOf(SCHEMA));
    const start = progress.apply(
      event('node_start', 1_000, { node: 'code_0', nodeType: 'code', loop: { nodeId: 'loop_0', index: 0 } }),
    );
    expect(start).toMatchObject({ kind: 'start', run: 1 });
    expect(progress.get('code_0')?.state).toBe('running');
    const end = progress.apply(event('node_end', 1_040, { node: 'code_0', status: 'succeeded' }));
    expect(end).toMatchObject({ kind: 'end', run: 1, ms: 40 });
    expect(progress.get('code_0')).toMatchObject({ state: 'succeeded', runs: 1, lastMs: 40, totalMs: 40 });

    progress.apply(
      event('node_start', 2_000, { node: 'code_0', nodeType: 'code', loop: { nodeId: 'loop_0', index: 1 } }),
    );
    const failed = progress.apply(
      event('node_end', 2_010, { node: 'code_0', status: 'failed', error: 'Code node timed out after 10ms' }),
    );
    expect(failed).toMatchObject({ kind: 'end', run: 2, ms: 10 });
    expect(progress.get('code_0')).toMatchObject({
      state: 'failed',
      runs: 2,
      totalMs: 50,
      error: 'Code node timed out after 10ms',
    });

    progress.apply(event('node_start', 3_000, { node: 'end_0', nodeType: 'end' }));
    progress.apply(event('node_end', 3_001, { node: 'end_0', status: 'canceled' }));
    expect(progress.get('end_0')?.state).toBe('cancelled');
    // An error given as an error body, and a node the schema did not list.
    progress.apply(event('node_start', 4_000, { node: 'extra', nodeType: 'http' }));
    progress.apply(event('node_end', 4_500, { node: 'extra', error: { code: 'x', message: 'HTTP 500' } }));
    expect(progress.get('extra')).toMatchObject({ state: 'failed', error: 'HTTP 500', type: 'http' });
    expect(
      progress.apply({
        taskId: 't1',
        seq: 99,
        ts: new Date().toISOString(),
        type: 'log',
        data: { level: 'info', message: 'x' },
      }),
    ).toBeUndefined();
  });

  it('prints one line per start and end, with iteration, status and duration', () => {
    const progress = new FlowProgress(flowNodesOf(SCHEMA));
    const s1 = progress.apply(event('node_start', 0, { node: 'start_0', nodeType: 'start' }));
    expect(stepLine(s1!, plain)).toBe('▶ start_0 (start) started');
    const e1 = progress.apply(event('node_end', 5, { node: 'start_0' }));
    expect(stepLine(e1!, plain)).toBe('✔ start_0 (start) succeeded 5ms');
    for (let i = 0; i < 3; i += 1) {
      const s = progress.apply(
        event('node_start', 10 + i, {
          node: 'code_0',
          nodeType: 'code',
          loop: { nodeId: 'loop_0', index: i },
        }),
      );
      expect(stepLine(s!, plain)).toBe(`▶ code_0 (code) #${i + 1} started`);
      const e = progress.apply(event('node_end', 1_510 + i, { node: 'code_0' }));
      expect(stepLine(e!, plain)).toBe(`✔ code_0 (code) #${i + 1} succeeded 1.5s`);
    }
    progress.apply(event('node_start', 0, { node: 'end_0', nodeType: 'end' }));
    const bad = progress.apply(event('node_end', 2, { node: 'end_0', error: 'boom' }));
    expect(stepLine(bad!, plain)).toBe('✖ end_0 (end) failed 2ms: boom');
    expect(summaryLine(progress.nodes)).toBe('nodes: 2 succeeded, 1 failed, 2 waiting · code_0 ran 3×');
    expect(formatMs(999)).toBe('999ms');
  });
});
