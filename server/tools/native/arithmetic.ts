/**
 * Evaluates arithmetic without `eval`: numbers, + - * / % ^ (power), unary minus and parentheses. A
 * recursive-descent parser over a token list; anything else is an error naming the position.
 */
export function evaluate(expression: string): number {
  const tokens = expression.match(/\d+(?:\.\d+)?(?:e[+-]?\d+)?|\.\d+|\*\*|[-+*/%^()]|\S/gi) ?? [];
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (what: string): never => {
    throw new Error(`${what} at token ${pos + 1} of "${expression}"`);
  };

  const primary = (): number => {
    const t = tokens[pos++];
    if (t === undefined) return fail('unexpected end');
    if (t === '(') {
      const v = sum();
      if (tokens[pos++] !== ')') fail('missing )');
      return v;
    }
    if (t === '-') return -power();
    if (t === '+') return power();
    const n = Number(t);
    return Number.isFinite(n) ? n : fail(`unexpected "${t}"`);
  };
  const power = (): number => {
    const base = primary();
    const op = peek();
    // Right-associative: 2^3^2 = 2^9.
    if (op === '^' || op === '**') {
      pos++;
      return base ** power();
    }
    return base;
  };
  const product = (): number => {
    let v = power();
    for (let op = peek(); op === '*' || op === '/' || op === '%'; op = peek()) {
      pos++;
      const r = power();
      v = op === '*' ? v * r : op === '/' ? v / r : v % r;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    for (let op = peek(); op === '+' || op === '-'; op = peek()) {
      pos++;
      const r = product();
      v = op === '+' ? v + r : v - r;
    }
    return v;
  };

  if (tokens.length === 0) fail('empty expression');
  const value = sum();
  if (pos < tokens.length) fail(`unexpected "${tokens[pos]}"`);
  if (!Number.isFinite(value)) throw new Error(`"${expression}" has no finite value`);
  return value;
}
