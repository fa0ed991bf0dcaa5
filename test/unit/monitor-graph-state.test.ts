import { describe, expect, it } from 'vitest';
import { GraphState } from '../../client/monitor/src/graph/graph-state.js';
import { nestTasks } from '../../client/monitor/src/ui/task-tree.js';
import type { TaskEvent, TaskSummary } from '../../server/protocol/index.js';

let seq = 0;
const ev = (type: string, data: Record<string, unknown>): TaskEvent =>
  ({
    taskId: 't1',
    seq: ++seq,
    ts: new Date(1_700_000_000_000 + seq).toISOString(),
    type,
    data,
  }) as TaskEvent;
const status = (s: string) => ev('status', { status: s, reason: 'started' });

describe('GraphState (the run graph folded from node events)', () => {
  it('moves nodes waiting -> running -> succeeded, counts runs, gives tool calls to the running node', () => {
    const g = new GraphState();
    for (const id of ['__start__', 'agent', 'tools', '__end__']) g.get(id);
    g.apply(status('running'));
    g.apply(ev('node_start', { node: 'agent' }));
    expect(g.get('__start__').state).toBe('succeeded');
    expect(g.get('agent').state).toBe('running');
    g.apply(ev('token', { text: 'hi', node: 'agent' }));
    g.apply(ev('node_end', { node: 'agent', output: { finishReason: 'tool_calls' } }));
    g.apply(ev('node_start', { node: 'tools' }));
    g.apply(ev('tool_start', { callId: 'c', name: 'kit_execute', args: { code: 'print(1)' } }));
    g.apply(
      ev('tool_result', { callId: 'c', name: 'kit_execute', result: { taskId: 't2' }, isError: false }),
    );
    g.apply(ev('node_end', { node: 'tools' }));
    g.apply(ev('node_start', { node: 'agent' }));
    g.apply(ev('node_end', { node: 'agent' }));
    expect(g.get('agent')).toMatchObject({ state: 'succeeded', runs: 2 });
    expect(g.get('tools').inputs).toEqual({ kit_execute: { code: 'print(1)' } });
    expect(g.get('tools').outputs).toEqual({ kit_execute: { taskId: 't2' } });
    expect(g.get('tools').events.map((e) => e.type)).toEqual([
      'node_start',
      'tool_start',
      'tool_result',
      'node_end',
    ]);
    expect(g.get('__end__').state).toBe('waiting');
    g.apply(status('succeeded'));
    expect(g.get('__end__').state).toBe('succeeded');
  });

  it('a failed run fails the running node and skips the ones never reached', () => {
    const g = new GraphState();
    for (const id of ['a', 'b', 'c']) g.get(id);
    g.apply(ev('node_start', { node: 'a' }));
    g.apply(ev('node_end', { node: 'a', status: 'failed', error: 'boom' }));
    g.apply(ev('node_start', { node: 'b' }));
    g.apply(status('failed'));
    expect(g.get('a')).toMatchObject({ state: 'failed', error: 'boom' });
    expect(g.get('b').state).toBe('failed');
    expect(g.get('c').state).toBe('skipped');
  });

  it('settles nodes the graph names after the events came in (the graph arrives after the replay)', () => {
    const g = new GraphState();
    g.apply(ev('node_start', { node: 'agent' }));
    g.apply(ev('node_end', { node: 'agent' }));
    g.apply(status('succeeded'));
    expect(g.get('__start__').state).toBe('succeeded');
    expect(g.get('__end__').state).toBe('succeeded');
    expect(g.get('tools').state).toBe('skipped');
    expect(g.get('agent').state).toBe('succeeded');
  });
});

describe('GraphState loop iterations', () => {
  it("counts a loop's iterations from its body's node events, per loop", () => {
    const g = new GraphState();
    g.apply(ev('node_start', { node: 'loop_0' }));
    expect(g.get('loop_0').iterations).toBeUndefined();
    for (const index of [0, 1, 2]) {
      g.apply(ev('node_start', { node: 'code_0', loop: { nodeId: 'loop_0', index } }));
      g.apply(ev('node_end', { node: 'code_0', loop: { nodeId: 'loop_0', index } }));
    }
    g.apply(ev('node_start', { node: 'inner', loop: { nodeId: 'loop_0', index: 3 } }));
    g.apply(ev('node_start', { node: 'x', loop: { nodeId: 'inner', index: 0 } }));
    expect(g.get('loop_0').iterations).toBe(4);
    expect(g.get('inner').iterations).toBe(1);
    expect(g.get('loop_0').runs).toBe(1);
    expect(g.get('code_0').iterations).toBeUndefined();
  });
});

describe('nestTasks (the task list as a tree)', () => {
  const t = (id: string, parentId: string | null, createdAt: string) =>
    ({ id, parentId, createdAt, status: 'running', kind: 'code' }) as TaskSummary;
  // Newest first, as the store lists them.
  const list = [t('c2', 'p', '3'), t('x', null, '2.5'), t('c1', 'p', '2'), t('p', null, '1')];

  it('puts children under their parent, oldest first, and keeps orphans at the top', () => {
    const rows = nestTasks(list, new Set());
    expect(rows.map((r) => `${r.task.id}:${r.depth}`)).toEqual(['x:0', 'p:0', 'c1:1', 'c2:1']);
    expect(rows.find((r) => r.task.id === 'p')?.children).toBe(2);
    expect(nestTasks([t('c1', 'gone', '2')], new Set()).map((r) => r.depth)).toEqual([0]);
  });

  it('hides the children of a collapsed parent', () => {
    const rows = nestTasks(list, new Set(['p']));
    expect(rows.map((r) => r.task.id)).toEqual(['x', 'p']);
    expect(rows[1]).toMatchObject({ collapsed: true, children: 2 });
  });
});
