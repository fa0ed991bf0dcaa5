import type { NodeExecutor } from '../engine.js';
import type { FlowValue } from '../schema.js';
import type { RunState } from '../state.js';
import { sameType } from '../variables.js';

type Op =
  | 'eq'
  | 'neq'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'in'
  | 'nin'
  | 'contains'
  | 'not_contains'
  | 'is_empty'
  | 'is_not_empty'
  | 'is_true'
  | 'is_false';

const cmp = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte'] as const;
const emptiness = { is_empty: 'null', is_not_empty: 'null' } as const;
const numberRules = {
  ...Object.fromEntries(cmp.map((o) => [o, 'number'])),
  in: 'array',
  nin: 'array',
  ...emptiness,
};

/** For each left type, the operators it supports and the type the right side must have (FlowGram's table). */
const RULES: Record<string, Partial<Record<Op, string>>> = {
  string: {
    eq: 'string',
    neq: 'string',
    contains: 'string',
    not_contains: 'string',
    in: 'array',
    nin: 'array',
    is_empty: 'string',
    is_not_empty: 'string',
  },
  number: numberRules,
  integer: { ...numberRules, ...Object.fromEntries(cmp.map((o) => [o, 'integer'])) },
  boolean: {
    eq: 'boolean',
    neq: 'boolean',
    is_true: 'null',
    is_false: 'null',
    in: 'array',
    nin: 'array',
    ...emptiness,
  },
  object: emptiness,
  map: emptiness,
  'date-time': { ...Object.fromEntries(cmp.map((o) => [o, 'date-time'])), ...emptiness },
  array: emptiness,
  null: { eq: 'null', ...emptiness },
};

interface Parsed {
  key: string;
  op: Op;
  left: unknown;
  leftType: string;
  right: unknown;
  rightType: string;
}

const isNil = (v: unknown) => v === null || v === undefined;

function parse(
  item: { key: string; value: { left?: unknown; operator: Op; right?: FlowValue } },
  state: RunState,
): Parsed {
  const { left, operator, right } = item.value;
  const l = state.parseRef(left);
  const leftType = (l?.type as string | undefined) ?? 'null';
  const expected = RULES[leftType]?.[operator] ?? 'null';
  const r = right ? state.parseValue(right, expected) : null;
  return {
    key: item.key,
    op: operator,
    left: l?.value ?? null,
    leftType,
    right: r?.value ?? null,
    rightType: (r?.type as string | undefined) ?? 'null',
  };
}

/** A condition whose right side has the wrong type is skipped; an unsupported operator is an error. */
function applicable(c: Parsed): boolean {
  const rule = RULES[c.leftType];
  if (!rule) throw new Error(`Condition left type "${c.leftType}" is not supported`);
  const want = rule[c.op];
  if (!want) throw new Error(`Condition left type "${c.leftType}" has no operator "${c.op}"`);
  return sameType(want, c.rightType);
}

function holds(c: Parsed): boolean {
  const { op, left, right } = c;
  if (op === 'is_empty') return isNil(left);
  if (op === 'is_not_empty') return !isNil(left);
  if (c.leftType === 'null') return op === 'eq' && isNil(left) && isNil(right);
  if (['object', 'map', 'array'].includes(c.leftType)) return false;
  if (c.leftType === 'date-time') {
    const a = new Date(left as string).getTime();
    const b = new Date(right as string).getTime();
    return compare(op, a, b);
  }
  switch (op) {
    case 'contains':
      return (left as string).includes(right as string);
    case 'not_contains':
      return !(left as string).includes(right as string);
    case 'in':
      return (right as unknown[]).includes(left);
    case 'nin':
      return !(right as unknown[]).includes(left);
    case 'is_true':
      return left === true;
    case 'is_false':
      return left === false;
    default:
      return compare(op, left as number, right as number);
  }
}

function compare(op: Op, a: number | string, b: number | string): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'neq':
      return a !== b;
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    default:
      return false;
  }
}

/** condition: routes by the key of the first condition that holds, else by `else`. */
export const conditionNode: NodeExecutor = async ({ node, state }) => {
  const conditions = node.data['conditions'] as Parameters<typeof parse>[0][] | undefined;
  if (!conditions) return { outputs: {} };
  const hit = conditions
    .map((c) => parse(c, state))
    .filter(applicable)
    .find(holds);
  return { outputs: {}, branch: hit ? hit.key : 'else' };
};
