import { type NodeExecutor, RunAborted } from '../engine.js';
import type { FlowValue, TypedValue } from '../schema.js';
import { typeOf } from '../variables.js';

function loopArray(value: TypedValue | null): TypedValue & { value: unknown[] } {
  if (!value || !Array.isArray(value.value)) throw new Error('Loop "loopFor" is required');
  if (value.type !== 'array') throw new Error('Loop "loopFor" must be an array');
  if (value.itemsType === null || value.itemsType === undefined)
    throw new Error('Loop "loopFor.items" must be array items');
  return value as TypedValue & { value: unknown[] };
}

/**
 * loop: runs its block once per item of `loopFor`, each iteration in a child state holding
 * `<loop>_locals.item` and `.index`. `break` ends the loop, `continue` drops the iteration's outputs;
 * `loopOutputs` collect one value per kept iteration into arrays.
 */
export const loopNode: NodeExecutor = async ({ node, state, engine, signal }) => {
  const data = node.data as { loopFor?: FlowValue; loopOutputs?: Record<string, FlowValue> };
  const items = loopArray(state.parseRef(data.loopFor));
  const blockStart = node.children.find((c) => c.type === 'block-start');
  if (!blockStart) throw new Error('Loop block start node not found');
  const declared = Object.entries(data.loopOutputs ?? {});
  const kept: Array<Record<string, TypedValue>> = [];
  for (const [index, item] of items.value.entries()) {
    const sub = state.sub();
    // An item that is itself an array gets its items' type (from its first element, as FlowGram types a
    // ref into a value), so a loop inside a loop can iterate it; FlowGram's runtime leaves it untyped and fails.
    const itemsType = Array.isArray(item) ? (typeOf(item[0]) ?? undefined) : undefined;
    sub.variables.set(`${node.id}_locals`, 'item', {
      value: item,
      type: items.itemsType ?? 'null',
      itemsType,
    });
    sub.variables.set(`${node.id}_locals`, 'index', { value: index, type: 'number' });
    try {
      await engine.executeNode(blockStart, sub, { nodeId: node.id, index });
    } catch (err) {
      if (err instanceof RunAborted || signal.aborted) throw err;
      throw new Error('Loop block execute error');
    }
    if (sub.flags.has('break')) break;
    if (sub.flags.has('continue')) continue;
    const out: Record<string, TypedValue> = {};
    for (const [name, ref] of declared) {
      const v = sub.parseRef(ref);
      if (v) out[name] = v;
    }
    kept.push(out);
  }
  const outputs: Record<string, unknown> = {};
  for (const [name] of declared) {
    const vars = kept.map((k) => k[name]);
    const types = vars.map((v) => v?.type);
    const first = types[0];
    for (const t of types) {
      if (t !== first) throw new Error(`Array items type must be same, expect ${first}, but got ${t}`);
    }
    const values = vars.map((v) => {
      if (!v) throw new Error(`Loop output "${name}" has no value in an iteration`);
      return v.value;
    });
    state.variables.set(node.id, name, { value: values, type: 'array', itemsType: first });
    outputs[name] = values;
  }
  return { outputs };
};
