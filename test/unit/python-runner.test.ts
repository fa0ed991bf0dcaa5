import { describe, expect, it } from 'vitest';
import {
  type JobOutcome,
  type OutputStream,
  type RunOptions,
  runPython,
} from '../../extension-bridge/host/python-runner.js';

interface Chunk {
  stream: OutputStream;
  text: string;
  at: number;
}

async function run(code: string, options: Partial<RunOptions> = {}) {
  const chunks: Chunk[] = [];
  const job = runPython({
    code,
    onOutput: (stream, text) => chunks.push({ stream, text, at: Date.now() }),
    ...options,
  });
  const outcome = await job.done;
  const text = (stream: OutputStream) =>
    chunks
      .filter((c) => c.stream === stream)
      .map((c) => c.text)
      .join('');
  return { outcome, chunks, stdout: text('stdout'), stderr: text('stderr'), endedAt: Date.now() };
}

describe('runPython', () => {
  it('streams stdout while the code runs, in order', async () => {
    const { outcome, chunks, stdout, endedAt } = await run(
      'import time\nprint("first")\ntime.sleep(0.6)\nprint("second")',
    );
    expect(outcome).toEqual({ status: 'succeeded', result: null });
    expect(stdout).toBe('first\nsecond\n');
    const first = chunks.find((c) => c.text.includes('first'));
    expect(endedAt - (first?.at ?? endedAt)).toBeGreaterThanOrEqual(400);
  });

  it('keeps stdout and stderr apart', async () => {
    const { stdout, stderr } = await run('import sys\nprint("out")\nprint("err", file=sys.stderr)');
    expect(stdout).toBe('out\n');
    expect(stderr).toBe('err\n');
  });

  it('loses no output', async () => {
    const { stdout } = await run('for i in range(100000):\n    print(i)');
    const expected = Array.from({ length: 100000 }, (_, i) => `${i}\n`).join('');
    expect(stdout.length).toBe(expected.length);
    expect(stdout).toBe(expected);
  });

  it('returns the value of the last expression', async () => {
    const { outcome } = await run('x = 6\nx * 7');
    expect(outcome).toEqual({ status: 'succeeded', result: 42 });
  });

  it('returns a variable named result when the code does not end with an expression', async () => {
    const { outcome } = await run('result = {"a": [1, 2.5, None, "é"]}');
    expect(outcome).toEqual({ status: 'succeeded', result: { a: [1, 2.5, null, 'é'] } });
  });

  it('falls back to repr() for values JSON cannot hold', async () => {
    const { outcome } = await run('{1, 2}');
    expect(outcome).toEqual({ status: 'succeeded', result: '{1, 2}' });
    expect((await run('float("nan")')).outcome).toEqual({ status: 'succeeded', result: 'nan' });
  });

  it('does not mistake printed JSON for the result', async () => {
    const { outcome, stdout } = await run('print(\'{"ok": false, "error": {"message": "x"}}\')\n"real"');
    expect(outcome).toEqual({ status: 'succeeded', result: 'real' });
    expect(stdout).toContain('"ok": false');
  });

  it('runs top-level await on one event loop', async () => {
    const code = [
      'import asyncio',
      'task = asyncio.ensure_future(asyncio.sleep(0.05, result=3))',
      'async def double(x):',
      '    return 2 * x',
      'await double(await task)',
    ].join('\n');
    expect((await run(code)).outcome).toEqual({ status: 'succeeded', result: 6 });
  });

  it('reports an exception with its type and the traceback of the code only', async () => {
    const { outcome } = await run('def f():\n    return 1 / 0\n\nf()');
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.message).toBe('ZeroDivisionError: division by zero');
    expect(outcome.error?.type).toBe('ZeroDivisionError');
    const traceback = outcome.error?.traceback ?? '';
    expect(traceback).toContain('File "<job>", line 4, in <module>');
    expect(traceback).toContain('File "<job>", line 2, in f');
    expect(traceback).toContain('return 1 / 0');
    expect(traceback).not.toContain('job_wrapper');
  });

  it('reports a SyntaxError with the offending line', async () => {
    const { outcome } = await run('x = 1\ny = (');
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.type).toBe('SyntaxError');
    expect(outcome.error?.message).toBe("SyntaxError: '(' was never closed");
    expect(outcome.error?.traceback).toContain('File "<job>", line 2');
  });

  it('reports an exit without a result as a failure', async () => {
    const { outcome } = await run('import os\nos._exit(3)');
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.message).toMatch(/^ProcessExit: .*code 3/);
  });

  it('reports an interpreter that cannot be started', async () => {
    const { outcome } = await run('1', { python: '/nonexistent/python3' });
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.type).toBe('SpawnError');
  });

  it('stops a running job when asked', async () => {
    const chunks: string[] = [];
    const job = runPython({
      code: 'import time\nprint("ready", flush=True)\nwhile True: time.sleep(0.01)',
      onOutput: (_stream, text) => {
        chunks.push(text);
        if (chunks.join('').endsWith('\n')) job.stop('cancelled');
      },
    });
    const startedAt = Date.now();
    expect(await job.done).toEqual({ status: 'cancelled' } satisfies JobOutcome);
    expect(Date.now() - startedAt).toBeLessThan(5000);
    expect(chunks.join('')).toBe('ready\n');
  });

  it('kills a job that ignores SIGTERM after the grace period', async () => {
    let askedAt = 0;
    const job = runPython({
      code: 'import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint("ready", flush=True)\nwhile True: pass',
      onOutput: () => {
        askedAt = Date.now();
        job.stop('cancelled');
      },
    });
    expect(await job.done).toEqual({ status: 'cancelled' });
    expect(Date.now() - askedAt).toBeGreaterThanOrEqual(900);
  });

  it('times a job out by itself', async () => {
    const { outcome, endedAt } = await run('while True: pass', { timeoutMs: 300 });
    expect(outcome).toEqual({ status: 'timed_out' });
    expect(endedAt).toBeGreaterThan(0);
  });

  it('does not wait for processes the job left behind', async () => {
    const startedAt = Date.now();
    const { outcome } = await run('import subprocess\nsubprocess.Popen(["sleep", "3"])\n"done"');
    expect(outcome).toEqual({ status: 'succeeded', result: 'done' });
    expect(Date.now() - startedAt).toBeLessThan(2500);
  });
});
