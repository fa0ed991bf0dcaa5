import { describe, expect, it } from 'vitest';
import { type Layout, layoutGraph, type PlacedBox } from '../../client/monitor/src/graph/graph-layout.js';
import type { RunGraph } from '../../server/protocol/index.js';

const node = (id: string, type: string, parent?: string) => ({
  id,
  label: id,
  type,
  ...(parent ? { parent } : {}),
});
const edge = (source: string, target: string) => ({ source, target, conditional: false });

/** FlowGram's shape: start -> outer loop -> end; the outer body holds a code node and an inner loop. */
const NESTED: RunGraph = {
  source: 'flowgram',
  name: 'flowgram',
  nodes: [
    node('start', 'start'),
    node('outer', 'loop'),
    node('bs', 'block-start', 'outer'),
    node('code', 'code', 'outer'),
    node('inner', 'loop', 'outer'),
    node('ibs', 'block-start', 'inner'),
    node('icode', 'code', 'inner'),
    node('ibe', 'block-end', 'inner'),
    node('be', 'block-end', 'outer'),
    node('end', 'end'),
  ],
  edges: [
    edge('start', 'outer'),
    edge('outer', 'end'),
    edge('bs', 'code'),
    edge('code', 'inner'),
    edge('inner', 'be'),
    edge('ibs', 'icode'),
    edge('icode', 'ibe'),
  ],
};

const rectOf = (l: Layout, id: string) => {
  const n = l.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node ${id}`);
  return {
    left: n.x - n.width / 2,
    right: n.x + n.width / 2,
    top: n.y - n.height / 2,
    bottom: n.y + n.height / 2,
  };
};
const boxRect = (b: PlacedBox | undefined) => {
  if (!b) throw new Error('no box');
  return {
    left: b.x - b.width / 2,
    right: b.x + b.width / 2,
    top: b.y - b.height / 2,
    bottom: b.y + b.height / 2,
  };
};
type R = ReturnType<typeof boxRect>;
const within = (a: R, b: R) =>
  a.left >= b.left && a.right <= b.right && a.top >= b.top && a.bottom <= b.bottom;
const apart = (a: R, b: R) =>
  a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;

describe('layoutGraph (dagre; loop bodies as boxes)', () => {
  const l = layoutGraph(NESTED);
  const outer = boxRect(l.boxes.find((b) => b.id === 'outer'));
  const inner = boxRect(l.boxes.find((b) => b.id === 'inner'));

  it('draws a box per loop, the loop node heading it and its whole body inside', () => {
    expect(l.boxes.map((b) => b.id).sort()).toEqual(['inner', 'outer']);
    expect(l.boxes.find((b) => b.id === 'inner')?.parent).toBe('outer');
    for (const id of ['outer', 'bs', 'code', 'inner', 'ibs', 'icode', 'ibe', 'be'])
      expect(within(rectOf(l, id), outer), id).toBe(true);
    for (const id of ['inner', 'ibs', 'icode', 'ibe']) expect(within(rectOf(l, id), inner), id).toBe(true);
    expect(within(inner, outer)).toBe(true);
    // The loop node is the box's head: its body comes after it (FlowGram reads left to right).
    for (const id of ['bs', 'code', 'inner', 'be'])
      expect(rectOf(l, id).left).toBeGreaterThan(rectOf(l, 'outer').right);
  });

  it('keeps what is outside a loop outside its box: start before, end after, the code node out of the inner box', () => {
    expect(apart(rectOf(l, 'start'), outer)).toBe(true);
    expect(rectOf(l, 'start').right).toBeLessThanOrEqual(outer.left);
    expect(rectOf(l, 'end').left).toBeGreaterThanOrEqual(outer.right);
    for (const id of ['bs', 'code', 'be']) expect(apart(rectOf(l, id), inner), id).toBe(true);
  });

  it("routes a loop's way out from its box's far end, and every drawn edge between real nodes", () => {
    const out = l.edges.find((e) => e.source === 'outer' && e.target === 'end');
    expect(out?.points[0]?.x).toBeCloseTo(outer.right, 1);
    const ids = new Set(NESTED.nodes.map((n) => n.id));
    for (const e of l.edges)
      expect(ids.has(e.source) && ids.has(e.target), `${e.source}->${e.target}`).toBe(true);
    const drawn = l.edges.filter((e) => e.kind !== 'contains').map((e) => `${e.source}->${e.target}`);
    expect(drawn.sort()).toEqual(NESTED.edges.map((e) => `${e.source}->${e.target}`).sort());
    expect(
      l.edges
        .filter((e) => e.kind === 'contains')
        .map((e) => `${e.source}->${e.target}`)
        .sort(),
    ).toEqual(['inner->ibs', 'outer->bs']);
  });

  it('draws a LangGraph graph top to bottom, with no boxes', () => {
    const flat = layoutGraph({
      source: 'langgraph',
      name: 'agent_chat',
      nodes: [node('__start__', 'start'), node('agent', 'node'), node('__end__', 'end')],
      edges: [edge('__start__', 'agent'), edge('agent', '__end__')],
    });
    expect(flat.boxes).toEqual([]);
    expect(flat.edges).toHaveLength(2);
    expect(rectOf(flat, 'agent').top).toBeGreaterThan(rectOf(flat, '__start__').bottom);
  });
});
