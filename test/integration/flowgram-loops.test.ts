import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowReport } from '../../server/protocol/flowgram.js';
import type { Task } from '../../server/protocol/tasks.js';
import { call, eventsUntilEnd, http, monitorClient, until } from '../helpers/clients.js';
import * as fg from '../helpers/flowgram-schemas.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

/** Loops (per-iteration events, nested loops) and node events as the task room delivers them. */
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub({ store: 'memory' });
});
afterAll(async () => {
  await hub?.close();
});

const api = <T>(method: string, path: string, body?: unknown) =>
  http<T>(hub.url, hub.tokens.operator, method, path, body);

async function report(taskID: string): Promise<FlowReport> {
  return until(
    async () => {
      const r = await api<FlowReport>('GET', `/api/task/report?taskID=${taskID}`);
      return r.body.workflowStatus?.terminated ? r.body : null;
    },
    20_000,
    'the run to end',
  );
}

describe('FlowGram loops and node events', () => {
  it('publishes node events in the task room, loop iterations included', async () => {
    const watcher = await monitorClient(hub.url, hub.tokens.viewer);
    try {
      const schema = fg.schemaOf(
        [
          fg.start({ items: { type: 'array', items: { type: 'string' } } }),
          {
            id: 'loop_0',
            type: 'loop',
            meta: { position: { x: 0, y: 0 } },
            data: { title: 'Loop', loopFor: { type: 'ref', content: ['start_0', 'items'] } },
            blocks: [
              { id: 'bs', type: 'block-start', meta: { position: { x: 0, y: 0 } }, data: {} },
              fg.code(
                'code_0',
                'async function main({ params }) { return { result: params.s.toUpperCase() }; }',
                {
                  s: ['loop_0_locals', 'item', 'string'],
                },
              ),
              { id: 'be', type: 'block-end', meta: { position: { x: 0, y: 0 } }, data: {} },
            ],
            edges: [fg.edge('bs', 'code_0'), fg.edge('code_0', 'be')],
          },
          fg.end({}),
        ],
        [fg.edge('start_0', 'loop_0'), fg.edge('loop_0', 'end_0')],
      );
      const res = await api<Task>('POST', '/api/v1/flowgram/runs', { schema, inputs: { items: ['a', 'b'] } });
      const ended = eventsUntilEnd(watcher, res.body.id);
      expect((await call(watcher, 'task:subscribe', { taskId: res.body.id, afterSeq: 0 })).ok).toBe(true);
      const events = await ended;
      const codeEnds = events.filter((e) => e.type === 'node_end' && e.data.node === 'code_0');
      expect(codeEnds.map((e) => e.type === 'node_end' && [e.data.outputs, e.data.loop])).toEqual([
        [{ result: 'A' }, { nodeId: 'loop_0', index: 0 }],
        [{ result: 'B' }, { nodeId: 'loop_0', index: 1 }],
      ]);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    } finally {
      watcher.close();
    }
  });

  it('runs a loop inside a loop, each seeing the locals of the loops around it', async () => {
    const pos = { position: { x: 0, y: 0 } };
    const block = (id: string, type: string) => ({ id, type, meta: pos, data: {} });
    const inner = {
      id: 'loop_in',
      type: 'loop',
      meta: pos,
      data: {
        title: 'Inner',
        loopFor: { type: 'ref', content: ['loop_out_locals', 'item'] },
        loopOutputs: { cells: { type: 'ref', content: ['code_0', 'result'] } },
      },
      blocks: [
        block('bs_in', 'block-start'),
        fg.code(
          'code_0',
          'async function main({ params }) { return { result: params.row + ":" + params.cell }; }',
          { row: ['loop_out_locals', 'index', 'number'], cell: ['loop_in_locals', 'item', 'string'] },
        ),
        block('be_in', 'block-end'),
      ],
      edges: [fg.edge('bs_in', 'code_0'), fg.edge('code_0', 'be_in')],
    };
    const schema = fg.schemaOf(
      [
        fg.start({ grid: { type: 'array', items: { type: 'array', items: { type: 'string' } } } }),
        {
          id: 'loop_out',
          type: 'loop',
          meta: pos,
          data: {
            title: 'Outer',
            loopFor: { type: 'ref', content: ['start_0', 'grid'] },
            loopOutputs: { rows: { type: 'ref', content: ['loop_in', 'cells'] } },
          },
          blocks: [block('bs_out', 'block-start'), inner, block('be_out', 'block-end')],
          edges: [fg.edge('bs_out', 'loop_in'), fg.edge('loop_in', 'be_out')],
        },
        fg.end({ rows: ['loop_out', 'rows', 'array'] }),
      ],
      [fg.edge('start_0', 'loop_out'), fg.edge('loop_out', 'end_0')],
    );
    const run = await api<{ taskID: string }>('POST', '/api/task/run', {
      schema: JSON.stringify(schema),
      inputs: { grid: [['a', 'b'], ['c']] },
    });
    const r = await report(run.body.taskID);
    expect(r.workflowStatus.status).toBe('succeeded');
    expect(r.outputs).toEqual({ rows: [['0:a', '0:b'], ['1:c']] });
    expect(r.reports['code_0']?.snapshots).toHaveLength(3);
    expect(r.reports['loop_in']?.snapshots).toHaveLength(2);
  });
});
