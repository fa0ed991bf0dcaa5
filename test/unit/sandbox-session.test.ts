import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { drainSandboxPool, SandboxError, SandboxSession } from '../../server/sandbox/index.js';

// Limits with room for a loaded CI machine: the bombs below end on these, never on a test timeout.
const LIMITS = { timeoutMs: 3_000, memoryMb: 32 };

/**
 * Counts executions in the session's context: `globalThis` is the one thing that outlives an execution, so
 * the count says whether two executions shared a context (same isolate) or not (a new one).
 */
const COUNTING = `async function main({ params }) {
  globalThis.runs = (globalThis.runs ?? 0) + 1;
  if (params.spin) while (true) {}
  if (params.bomb) { const hoard = []; for (;;) hoard.push(new Array(100000).fill(1.5)); }
  if (params.fail) throw new RangeError('asked to fail');
  return { runs: globalThis.runs, doubled: params.n * 2 };
}`;

const sessions: SandboxSession[] = [];
function session(source: string, limits = LIMITS): SandboxSession {
  const s = new SandboxSession(source, limits);
  sessions.push(s);
  return s;
}

async function failure(run: Promise<unknown>): Promise<SandboxError> {
  const error = await run.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SandboxError);
  return error as SandboxError;
}

afterEach(() => {
  for (const s of sessions.splice(0)) s.dispose();
});
afterAll(() => drainSandboxPool());

describe('sandbox session: one code node, many executions', () => {
  it('reuses one context across executions, each with fresh params', async () => {
    const s = session(COUNTING);
    for (let n = 0; n < 20; n += 1) {
      await expect(s.run({ n })).resolves.toEqual({ runs: n + 1, doubled: n * 2 });
    }
    // Another session (another task, or another code node) starts from nothing.
    await expect(session(COUNTING).run({ n: 5 })).resolves.toEqual({ runs: 1, doubled: 10 });
  });

  it("makes the code's top-level declarations afresh for every execution", async () => {
    const s = session(`let calls = 0; var seen = []; const started = { at: 'top' };
      async function main({ params }) {
        calls += 1; seen.push(params.tag); started.tag = params.tag;
        return { calls, seen, started };
      }`);
    await expect(s.run({ tag: 'a' })).resolves.toEqual({
      calls: 1,
      seen: ['a'],
      started: { at: 'top', tag: 'a' },
    });
    await expect(s.run({ tag: 'b' })).resolves.toEqual({
      calls: 1,
      seen: ['b'],
      started: { at: 'top', tag: 'b' },
    });
    // A params object changed by one execution is not what the next one gets.
    const mutating = session(
      'async function main({ params }) { const before = params.list.length; params.list.push(9); return before }',
    );
    await expect(mutating.run({ list: [1, 2] })).resolves.toBe(2);
    await expect(mutating.run({ list: [1, 2] })).resolves.toBe(2);
  });

  it("keeps the session after the code's own error, and names it", async () => {
    const s = session(COUNTING);
    await expect(s.run({ n: 1 })).resolves.toEqual({ runs: 1, doubled: 2 });
    const error = await failure(s.run({ n: 2, fail: true }));
    expect([error.failure, error.name, error.message]).toEqual(['script', 'RangeError', 'asked to fail']);
    expect(error.stack).toContain('code-node.js:5');
    expect(error.stack).not.toContain('switchboard:');
    // Same context: the failing execution counted too.
    await expect(s.run({ n: 3 })).resolves.toEqual({ runs: 3, doubled: 6 });
  });

  it('refuses what is not a valid script on its own, and a code without main', async () => {
    const syntax = await failure(session('async function main( { return 1 }').run({}));
    expect(syntax.name).toBe('SyntaxError');
    const imported = await failure(
      session('import fs from "node:fs";\nasync function main() { return 1 }').run({}),
    );
    expect(imported.name).toBe('SyntaxError');
    // Text that would close the loader function around the code and run at its top level is refused whole.
    const breakout = await failure(
      session(
        '}; globalThis.escaped = true; function again() {\nasync function main() { return globalThis.escaped }',
      ).run({}),
    );
    expect(breakout.name).toBe('SyntaxError');
    const missing = await failure(session('const answer = 42').run({}));
    expect(missing.message).toMatch(/must define a function main/);
  });

  it('gives no execution access to the host', async () => {
    const s = session(`async function main() {
      let imported = 'no';
      try { await import('node:fs'); imported = 'yes'; } catch (e) { imported = e.message; }
      return {
        globals: ['process', 'require', 'module', 'fetch', 'Buffer', 'XMLHttpRequest', 'WebSocket', 'setImmediate']
          .map((name) => name + ':' + typeof globalThis[name]),
        viaFunction: Function('return typeof process')(),
        imported,
      };
    }`);
    for (let i = 0; i < 2; i += 1) {
      const seen = (await s.run({})) as { globals: string[]; viaFunction: string; imported: string };
      for (const entry of seen.globals) expect(entry).toMatch(/:undefined$/);
      expect(seen.viaFunction).toBe('undefined');
      expect(seen.imported).toMatch(/not supported/i);
    }
  });

  it('drops timers an execution left pending: they never fire into the next one', async () => {
    const s = session(`async function main({ params }) {
      if (params.arm) { setTimeout(() => { globalThis.late = 'fired' }, 1); setInterval(() => { globalThis.late = 'fired' }, 1); return 'armed' }
      return typeof globalThis.late;
    }`);
    await expect(s.run({ arm: true })).resolves.toBe('armed');
    // Long enough for a leaked 1 ms timer to have fired many times over.
    await new Promise((r) => setTimeout(r, 200));
    await expect(s.run({ arm: false })).resolves.toBe('undefined');
  });

  it('runs timers and awaited promises within an execution', async () => {
    const s = session(`async function main({ params }) {
      let ticks = 0;
      await new Promise((resolve) => {
        const id = setInterval(() => { ticks += 1; if (ticks === params.ticks) { clearInterval(id); resolve(); } }, 2);
      });
      return ticks;
    }`);
    await expect(s.run({ ticks: 3 })).resolves.toBe(3);
    await expect(s.run({ ticks: 5 })).resolves.toBe(5);
    const late = await failure(
      session(
        'async function main() { setTimeout(() => { throw new TypeError("late") }, 1); await new Promise(() => {}) }',
      ).run({}),
    );
    expect([late.name, late.message]).toEqual(['TypeError', 'late']);
  });
});

describe('sandbox session: limits per execution', () => {
  it('ends an infinite loop with a timeout, then starts a new isolate for the next execution', async () => {
    const s = session(COUNTING, { timeoutMs: 500, memoryMb: 32 });
    await expect(s.run({ n: 1 })).resolves.toEqual({ runs: 1, doubled: 2 });
    await expect(s.run({ n: 2 })).resolves.toEqual({ runs: 2, doubled: 4 });
    const error = await failure(s.run({ n: 3, spin: true }));
    expect([error.failure, error.message]).toEqual(['timeout', 'Code node timed out after 500ms']);
    // The spinning isolate is gone: the next execution counts from one in a new context.
    await expect(s.run({ n: 4 })).resolves.toEqual({ runs: 1, doubled: 8 });
  });

  it('ends a memory bomb with a memory error, then recovers', async () => {
    const s = session(COUNTING, { timeoutMs: 20_000, memoryMb: 16 });
    await expect(s.run({ n: 1 })).resolves.toEqual({ runs: 1, doubled: 2 });
    const error = await failure(s.run({ n: 2, bomb: true }));
    expect([error.failure, error.message]).toEqual([
      'memory',
      'Code node exceeded its memory limit of 16 MB',
    ]);
    await expect(s.run({ n: 3 })).resolves.toEqual({ runs: 1, doubled: 6 });
  });

  it('gives each execution the whole time limit, not a share of the session', async () => {
    const s = session(
      'async function main({ params }) { await new Promise((r) => setTimeout(r, params.ms)); return params.i }',
      { timeoutMs: 2_000, memoryMb: 32 },
    );
    // Six executions of 400 ms: 2.4 s together, past the limit, each well within it.
    for (let i = 0; i < 6; i += 1) await expect(s.run({ ms: 400, i })).resolves.toBe(i);
  });

  it('cancels an execution when its signal aborts, and the session goes on', async () => {
    const s = session(COUNTING, { timeoutMs: 60_000, memoryMb: 32 });
    await expect(s.run({ n: 1 })).resolves.toEqual({ runs: 1, doubled: 2 });
    const controller = new AbortController();
    const running = s.run({ n: 2, spin: true }, controller.signal);
    // The loop has started once the context's count says so... which it cannot tell while spinning: abort
    // after another session's execution has come and gone (several turns of the event loop).
    await session(COUNTING).run({ n: 0 });
    controller.abort();
    const error = await failure(running);
    expect([error.name, error.message, error.failure]).toEqual(['AbortError', 'cancelled', 'cancelled']);
    await expect(s.run({ n: 3 })).resolves.toEqual({ runs: 1, doubled: 6 });
    await expect(s.run({ n: 4 }, AbortSignal.abort())).rejects.toThrow('cancelled');
  });

  it('stops a running execution when disposed, and runs later calls on their own', async () => {
    const s = session(COUNTING, { timeoutMs: 60_000, memoryMb: 32 });
    await expect(s.run({ n: 1 })).resolves.toEqual({ runs: 1, doubled: 2 });
    const running = s.run({ n: 2, spin: true });
    await session(COUNTING).run({ n: 0 });
    s.dispose();
    expect((await failure(running)).failure).toBe('cancelled');
    // After dispose each call is a one-off run in a fresh context.
    await expect(s.run({ n: 5 })).resolves.toEqual({ runs: 1, doubled: 10 });
    await expect(s.run({ n: 6 })).resolves.toEqual({ runs: 1, doubled: 12 });
  });

  it('runs an execution that overlaps another on its own, both correct', async () => {
    const s = session(
      'async function main({ params }) { await new Promise((r) => setTimeout(r, 50)); globalThis.k = params.k; return globalThis.k }',
    );
    await expect(Promise.all([s.run({ k: 'a' }), s.run({ k: 'b' }), s.run({ k: 'c' })])).resolves.toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('leaves other sessions untouched while one spins and one bombs', async () => {
    const spinning = session(COUNTING, { timeoutMs: 2_000, memoryMb: 32 });
    const bombing = session(COUNTING, { timeoutMs: 20_000, memoryMb: 16 });
    const steady = session(COUNTING);
    await steady.run({ n: 0 });
    const spin = failure(spinning.run({ spin: true }));
    const bomb = failure(bombing.run({ bomb: true }));
    const results: unknown[] = [];
    for (let n = 1; n <= 10; n += 1) results.push(await steady.run({ n }));
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => ({ runs: i + 2, doubled: (i + 1) * 2 })));
    expect((await spin).failure).toBe('timeout');
    expect((await bomb).failure).toBe('memory');
    await expect(steady.run({ n: 11 })).resolves.toEqual({ runs: 12, doubled: 22 });
  });
});
