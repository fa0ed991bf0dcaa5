import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { JobResult } from '../../server/protocol/index.js';

/** The Python side of a job: reads the code on stdin, reports the outcome as one JSON line on fd 3. */
export const WRAPPER_PATH = fileURLToPath(new URL('./job_wrapper.py', import.meta.url));
/** Time between SIGTERM and SIGKILL when a job is stopped. */
export const KILL_GRACE_MS = 1000;
/** Time a stopped job's process may take to go before it is reported as stuck. */
export const STUCK_AFTER_MS = 3000;
/** Time the job's pipes may stay open after the interpreter exited (held by a process the job started). */
const PIPE_GRACE_MS = 500;

export type OutputStream = 'stdout' | 'stderr';
export type StopReason = 'cancelled' | 'timed_out';
/** How a job ended: a `job:result` without its task id. */
export type JobOutcome = Omit<JobResult, 'taskId'>;
type JobError = NonNullable<JobOutcome['error']>;

export interface RunOptions {
  code: string;
  /** Interpreter to run; defaults to {@link defaultPython}. */
  python?: string;
  /** The job is stopped as `timed_out` after this long; none when absent or not positive. */
  timeoutMs?: number;
  /** Called with every chunk the job writes, in order per stream, as it arrives. */
  onOutput?: (stream: OutputStream, text: string) => void;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Time between SIGTERM and SIGKILL; default {@link KILL_GRACE_MS}. */
  killGraceMs?: number;
  /** Called once when the process is still there this long after `stop()`; default {@link STUCK_AFTER_MS}. */
  stuckAfterMs?: number;
  onStuck?: () => void;
}

export interface PythonJob {
  readonly pid: number | undefined;
  /** Settles once the interpreter is gone and all its output has been passed to `onOutput`; never rejects. */
  readonly done: Promise<JobOutcome>;
  /** SIGTERM, then SIGKILL after {@link KILL_GRACE_MS}; the outcome is then `{status: reason}`. */
  stop(reason: StopReason): void;
}

export function defaultPython(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** The interpreter's version, e.g. `3.11.7`; undefined when it cannot be run. */
export function pythonVersion(python: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      python,
      ['-c', 'import platform; print(platform.python_version())'],
      { timeout: 5_000 },
      (err, out) => resolve(err ? undefined : out.trim() || undefined),
    );
  });
}

/** Runs one piece of Python code in a fresh interpreter. */
export function runPython(options: RunOptions): PythonJob {
  const child = spawn(options.python ?? defaultPython(), ['-u', WRAPPER_PATH], {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    // A process group of its own, so stopping the job also stops whatever it started.
    detached: true,
    cwd: options.cwd,
    env: { ...process.env, ...options.env, PYTHONIOENCODING: 'utf-8' },
  });
  const channel = child.stdio[3] as Readable;
  let report = '';
  let stopReason: StopReason | undefined;
  let settled = false;
  const timers = new Set<NodeJS.Timeout>();
  let resolveDone: (outcome: JobOutcome) => void = () => {};
  const done = new Promise<JobOutcome>((resolve) => {
    resolveDone = resolve;
  });

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };
  const signal = (name: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, name);
    } catch {
      child.kill(name);
    }
  };
  const settle = (outcome: JobOutcome) => {
    if (settled) return;
    settled = true;
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    resolveDone(stopReason ? { status: stopReason } : outcome);
  };
  const stop = (reason: StopReason) => {
    if (settled || stopReason) return;
    stopReason = reason;
    signal('SIGTERM');
    later(options.killGraceMs ?? KILL_GRACE_MS, () => signal('SIGKILL'));
    // A process that outlives its kill (e.g. in uninterruptible I/O) still holds its slot: say so.
    later(options.stuckAfterMs ?? STUCK_AFTER_MS, () => options.onStuck?.());
  };

  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream].setEncoding('utf8');
    child[stream].on('data', (text: string) => options.onOutput?.(stream, text));
  }
  channel.setEncoding('utf8');
  channel.on('data', (text: string) => {
    report += text;
  });
  child.stdin.on('error', () => {
    // EPIPE when the interpreter dies before reading all the code; its exit tells the story.
  });
  child.stdin.end(options.code, 'utf8');

  child.on('error', (err) => {
    // Only a failed spawn ends the job here; other errors (a failed kill) leave it to 'close'.
    if (child.pid === undefined)
      settle(failure('SpawnError', `cannot run ${child.spawnfile}: ${err.message}`));
  });
  child.on('exit', () => {
    later(PIPE_GRACE_MS, () => {
      for (const stream of [child.stdout, child.stderr, channel]) stream.destroy();
    });
  });
  child.on('close', (code, signalName) => settle(outcomeOf(report, code, signalName)));
  if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
    later(options.timeoutMs, () => stop('timed_out'));
  }

  return { pid: child.pid, done, stop };
}

function failure(type: string, message: string): JobOutcome {
  return { status: 'failed', error: { message: `${type}: ${message}`, type } };
}

function outcomeOf(report: string, code: number | null, signalName: NodeJS.Signals | null): JobOutcome {
  const line = report.split('\n', 1)[0] ?? '';
  if (line) {
    try {
      const parsed = JSON.parse(line) as { ok: boolean; result?: unknown; error?: JobError };
      if (parsed.ok) return { status: 'succeeded', result: parsed.result ?? null };
      if (parsed.error) return { status: 'failed', error: parsed.error };
    } catch {
      // Fall through: a report cut short is no report.
    }
  }
  const how = signalName ? `was killed by ${signalName}` : `exited with code ${code}`;
  return failure('ProcessExit', `the Python process ${how} before reporting a result`);
}
