import { afterAll, describe, expect, it } from 'vitest';
import { drainSandboxPool, runSandboxed, SandboxError } from '../../server/sandbox/index.js';

// Limits with room for a loaded CI machine: the bombs below end on these, never on a test timeout.
const LIMITS = { timeoutMs: 3_000, memoryMb: 32 };

async function failure(source: string, params: unknown = {}, opts = LIMITS): Promise<SandboxError> {
  const error = await runSandboxed(source, params, opts).then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SandboxError);
  return error as SandboxError;
}

afterAll(() => drainSandboxPool());

describe('sandbox: running FlowGram code nodes', () => {
  it('runs async main({ params }) and copies its value out as JSON', async () => {
    const source = `async function main({ params }) {
      return { key0: params.input + params.input, key1: ['hello', 'world'], key2: { key21: 'hi' }, when: new Date(0) };
    }`;
    await expect(runSandboxed(source, { input: 'hello~' }, LIMITS)).resolves.toEqual({
      key0: 'hello~hello~',
      key1: ['hello', 'world'],
      key2: { key21: 'hi' },
      when: '1970-01-01T00:00:00.000Z',
    });
  });

  it('accepts a main declared with const and a synchronous main', async () => {
    await expect(runSandboxed('const main = ({ params }) => params.n * 2', { n: 21 }, LIMITS)).resolves.toBe(
      42,
    );
    await expect(runSandboxed('async function main() {}', {}, LIMITS)).resolves.toBeUndefined();
  });

  it('awaits promises and timers bound to the run', async () => {
    const source = `async function main() {
      let ticks = 0;
      await new Promise((resolve) => {
        const id = setInterval(() => { ticks += 1; if (ticks === 3) { clearInterval(id); resolve(); } }, 5);
      });
      const cancelled = setTimeout(() => { throw new Error('should never fire') }, 1);
      clearTimeout(cancelled);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => queueMicrotask(resolve));
      return ticks;
    }`;
    await expect(runSandboxed(source, {}, LIMITS)).resolves.toBe(3);
  });

  it("rejects with the script's own error name and message", async () => {
    const error = await failure('async function main() { throw new RangeError("bad thing") }');
    expect(error.failure).toBe('script');
    expect(error.name).toBe('RangeError');
    expect(error.message).toBe('bad thing');
    expect(error.stack).toContain('code-node.js');
    expect(error.stack).not.toContain('server/sandbox');
    expect(error.stack).not.toContain('switchboard:');

    const plain = await failure('async function main() { throw "plain text" }');
    expect([plain.name, plain.message]).toEqual(['Error', 'plain text']);

    const syntax = await failure('async function main( { return 1 }');
    expect(syntax.name).toBe('SyntaxError');

    const missing = await failure('const answer = 42');
    expect(missing.message).toMatch(/must define a function main/);

    const late = await failure(
      'async function main() { setTimeout(() => { throw new TypeError("late") }, 1); await new Promise(() => {}) }',
    );
    expect([late.name, late.message]).toEqual(['TypeError', 'late']);
  });

  it('validates its options', async () => {
    await expect(runSandboxed('', {}, { timeoutMs: 0, memoryMb: 32 })).rejects.toThrow(/timeoutMs/);
    await expect(runSandboxed('', {}, { timeoutMs: 100, memoryMb: 2 })).rejects.toThrow(/memoryMb/);
  });
});

describe('sandbox: no access to the host', () => {
  it('has no process, require, module, fetch or Node globals', async () => {
    const source = `async function main() {
      return ['process', 'require', 'module', 'exports', 'fetch', 'Buffer', 'global', 'XMLHttpRequest', 'WebSocket',
        '__dirname', 'setImmediate'].map((name) => name + ':' + typeof globalThis[name]);
    }`;
    const seen = (await runSandboxed(source, {}, LIMITS)) as string[];
    for (const entry of seen) expect(entry).toMatch(/:undefined$/);
    const direct = await failure('async function main() { return process.env }');
    expect([direct.name, direct.message]).toEqual(['ReferenceError', 'process is not defined']);
    const req = await failure(
      'async function main() { return require("fs").readFileSync("/etc/passwd", "utf8") }',
    );
    expect(req.message).toBe('require is not defined');
  });

  it('cannot import() a module or use import statements', async () => {
    const dynamic = await failure(
      'async function main() { const fs = await import("node:fs"); return fs.readdirSync("/") }',
    );
    expect(dynamic.failure).toBe('script');
    expect(dynamic.message).toMatch(/not supported/i);
    const stat = await failure('import fs from "node:fs";\nasync function main() { return 1 }');
    expect(stat.name).toBe('SyntaxError');
  });

  it('cannot climb out through constructors or the host callbacks', async () => {
    const source = `async function main() {
      const viaFunction = Function('return typeof process')();
      const viaConstructor = (() => {}).constructor.constructor('return this')();
      return { viaFunction, sameGlobal: viaConstructor === globalThis, hasProcess: 'process' in viaConstructor };
    }`;
    await expect(runSandboxed(source, {}, LIMITS)).resolves.toEqual({
      viaFunction: 'undefined',
      sameGlobal: true,
      hasProcess: false,
    });
  });

  it('starts every run in a fresh context: nothing leaks between runs', async () => {
    const first = `globalThis.leak = 'secret'; Object.prototype.polluted = true; var counter = 1;
      async function main() { return 'set' }`;
    await runSandboxed(first, {}, LIMITS);
    const second = `async function main() {
      return [typeof leak, typeof counter, ({}).polluted === undefined];
    }`;
    // Several runs so that pooled isolates are certainly reused.
    for (let i = 0; i < 5; i += 1) {
      await expect(runSandboxed(second, {}, LIMITS)).resolves.toEqual(['undefined', 'undefined', true]);
    }
  });
});

describe('sandbox: limits and cancel', () => {
  it('ends an infinite loop with a clear timeout error', async () => {
    const error = await failure(
      'async function main() { while (true) {} }',
      {},
      { timeoutMs: 500, memoryMb: 32 },
    );
    expect(error.failure).toBe('timeout');
    expect(error.message).toBe('Code node timed out after 500ms');
  });

  it('counts awaited time against the limit, not only CPU', async () => {
    const forever = await failure(
      'async function main() { await new Promise(() => {}) }',
      {},
      { timeoutMs: 500, memoryMb: 32 },
    );
    expect(forever.message).toBe('Code node timed out after 500ms');
    const microtasks = await failure(
      'async function main() { for (;;) await null }',
      {},
      { timeoutMs: 500, memoryMb: 32 },
    );
    expect(microtasks.failure).toBe('timeout');
  });

  it('ends a memory bomb with a clear memory error', async () => {
    const error = await failure(
      'async function main() { const hoard = []; for (;;) hoard.push(new Array(100000).fill(1.5)) }',
      {},
      { timeoutMs: 20_000, memoryMb: 16 },
    );
    expect(error.failure).toBe('memory');
    expect(error.message).toBe('Code node exceeded its memory limit of 16 MB');
  });

  it('cancels when the signal aborts, and before starting if already aborted', async () => {
    const controller = new AbortController();
    const running = runSandboxed(
      'async function main() { while (true) {} }',
      {},
      { timeoutMs: 60_000, memoryMb: 32, signal: controller.signal },
    );
    // Let the loop get going (another run completing takes a few turns of the event loop), then abort.
    await runSandboxed('async function main() { return 1 }', {}, LIMITS);
    controller.abort();
    const error = (await running.then(
      () => undefined,
      (e: unknown) => e,
    )) as SandboxError;
    expect(error).toBeInstanceOf(SandboxError);
    expect([error.name, error.message, error.failure]).toEqual(['AbortError', 'cancelled', 'cancelled']);
    await expect(
      runSandboxed('async function main() { return 1 }', {}, { ...LIMITS, signal: AbortSignal.abort() }),
    ).rejects.toThrow('cancelled');
  });

  it('keeps other runs and the event loop going while bombs run beside them', async () => {
    const settled: string[] = [];
    const loop = failure(
      'async function main() { while (true) {} }',
      {},
      { timeoutMs: 6_000, memoryMb: 32 },
    ).then((e) => {
      settled.push('loop');
      return e;
    });
    const bomb = failure(
      'async function main() { const h = []; for (;;) h.push(new Array(100000).fill(2.5)) }',
      {},
      { timeoutMs: 20_000, memoryMb: 16 },
    );
    // Legit work in parallel: a run that awaits timers, and many quick runs, all finish with correct values.
    const slow = runSandboxed(
      `async function main({ params }) {
        let sum = 0;
        for (let i = 0; i < 5; i += 1) { await new Promise((r) => setTimeout(r, 10)); sum += params.step; }
        return sum;
      }`,
      { step: 7 },
      { timeoutMs: 10_000, memoryMb: 32 },
    );
    const quick = Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        runSandboxed('const main = ({ params }) => params.i * 3', { i }, LIMITS),
      ),
    );
    // The host's event loop keeps turning while the loop spins in its isolate.
    let ticks = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        ticks += 1;
        if (ticks === 5) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    expect(settled).not.toContain('loop');
    await expect(slow).resolves.toBe(35);
    await expect(quick).resolves.toEqual(Array.from({ length: 20 }, (_, i) => i * 3));
    expect((await loop).failure).toBe('timeout');
    expect((await bomb).failure).toBe('memory');
    // And the sandbox still works afterwards.
    await expect(runSandboxed('const main = () => "fine"', {}, LIMITS)).resolves.toBe('fine');
  });
});
