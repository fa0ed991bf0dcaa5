import { describe, expect, it } from 'vitest';
import type { FlowNode } from '../../server/workflows/flowgram/document.js';
import type { FlowEngine } from '../../server/workflows/flowgram/engine.js';
import { conditionNode } from '../../server/workflows/flowgram/nodes/condition.js';
import { RunState } from '../../server/workflows/flowgram/state.js';
import { VariableStore } from '../../server/workflows/flowgram/variables.js';

/** One condition `start_0.v <operator> right` against a value of a declared type; the branch it takes. */
async function branch(
  type: string,
  value: unknown,
  operator: string,
  right?: unknown,
): Promise<string | undefined> {
  const state = new RunState(new VariableStore());
  state.setNodeOutputs('start_0', { type: 'object', properties: { v: { type } } }, { v: value });
  const node = {
    id: 'condition_0',
    type: 'condition',
    data: {
      conditions: [
        {
          key: 'if_hit',
          value: {
            left: { type: 'ref', content: ['start_0', 'v'] },
            operator,
            ...(right !== undefined ? { right: { type: 'constant', content: right } } : {}),
          },
        },
      ],
    },
  } as unknown as FlowNode;
  const result = await conditionNode({
    node,
    inputs: {},
    state,
    engine: {} as FlowEngine,
    signal: new AbortController().signal,
    loop: undefined,
    setInputs: () => {},
    token: () => {},
  });
  return result.branch;
}

describe('FlowGram condition operators', () => {
  const cases: Array<[string, unknown, string, unknown, boolean]> = [
    ['string', 'abc', 'eq', 'abc', true],
    ['string', 'abc', 'neq', 'abc', false],
    ['string', 'abc', 'contains', 'b', true],
    ['string', 'abc', 'not_contains', 'b', false],
    ['string', 'abc', 'in', ['abc', 'x'], true],
    ['string', 'abc', 'nin', ['abc'], false],
    // FlowGram's table wants a string right side for string emptiness checks (its editor sends one).
    ['string', 'abc', 'is_empty', '', false],
    ['string', 'abc', 'is_not_empty', '', true],
    ['string', 'abc', 'is_not_empty', undefined, false],
    ['number', 2.5, 'gt', 2, true],
    ['number', 2.5, 'gte', 2.5, true],
    ['number', 2.5, 'lt', 2, false],
    ['number', 2.5, 'lte', 3, true],
    ['integer', 3, 'eq', 3, true],
    ['integer', 3, 'in', [1, 2], false],
    ['boolean', true, 'is_true', undefined, true],
    ['boolean', true, 'is_false', undefined, false],
    ['boolean', false, 'eq', false, true],
    ['date-time', '2024-01-02T00:00:00Z', 'gt', '2024-01-01T00:00:00Z', true],
    ['date-time', '2024-01-02T00:00:00Z', 'lte', '2024-01-01T00:00:00Z', false],
    ['object', { a: 1 }, 'is_not_empty', undefined, true],
    ['array', [], 'is_empty', undefined, false],
    ['map', { a: 1 }, 'is_empty', undefined, false],
  ];
  for (const [type, value, op, right, hit] of cases) {
    it(`${type} ${JSON.stringify(value)} ${op} ${JSON.stringify(right)} -> ${hit ? 'if_hit' : 'else'}`, async () => {
      expect(await branch(type, value, op, right)).toBe(hit ? 'if_hit' : 'else');
    });
  }

  it('skips a condition whose right side has the wrong type (FlowGram does not fail it)', async () => {
    expect(await branch('number', 2, 'gt', 'two')).toBe('else');
  });

  it('refuses an operator the left type does not have, naming both', async () => {
    await expect(branch('object', {}, 'gt', 1)).rejects.toThrow(
      'Condition left type "object" has no operator "gt"',
    );
  });

  it('compares a null value only for emptiness', async () => {
    expect(await branch('null', undefined, 'is_empty')).toBe('if_hit');
    expect(await branch('null', undefined, 'is_not_empty')).toBe('else');
  });
});
