import { cancelled, SandboxError } from './errors.js';
import { acquireIsolate, releaseIsolate } from './pool.js';
import { SandboxRun } from './run.js';

export type { SandboxFailure } from './errors.js';
export { SandboxError } from './errors.js';
export { drainSandboxPool } from './pool.js';
export { SandboxSession, type SessionLimits } from './session.js';

export interface SandboxOptions {
  /** Wall-clock limit for the whole run, awaited promises and timers included. */
  timeoutMs: number;
  /** Heap limit of the isolate the code runs in (isolated-vm's minimum is 8). */
  memoryMb: number;
  /** Aborting it ends the run with a `cancelled` error and disposes its isolate. */
  signal?: AbortSignal;
}

const MIN_MEMORY_MB = 8;
const NO_SNAPSHOT = '--no-node-snapshot';
let warned = false;

/** isolated-vm's README: on Node 20+ isolates can crash the process unless Node runs without its snapshot. */
function warnWithoutNoSnapshot(): void {
  if (warned) return;
  warned = true;
  if (process.execArgv.includes(NO_SNAPSHOT) || (process.env['NODE_OPTIONS'] ?? '').includes(NO_SNAPSHOT))
    return;
  process.emitWarning(`Code node sandbox: start Node with ${NO_SNAPSHOT} (isolated-vm needs it on Node 20+)`);
}

/**
 * Runs a FlowGram code node's source (`async function main({ params }) { ... }`) in a fresh context of an
 * isolated V8 isolate and resolves with main's return value copied out as JSON. The code sees plain
 * JavaScript plus timers bound to this run: no process, require, import(), file system or network.
 * Rejects with a SandboxError: the script's own name and message, or `Code node timed out after Nms`,
 * `Code node exceeded its memory limit of N MB`, `cancelled`.
 */
export async function runSandboxed(source: string, params: unknown, opts: SandboxOptions): Promise<unknown> {
  checkOptions(source, opts);
  if (opts.signal?.aborted) throw cancelled();
  warnWithoutNoSnapshot();
  const { isolate, spare } = acquireIsolate(opts.memoryMb);
  const run = new SandboxRun(isolate, opts, spare);
  try {
    return await run.execute(source, params);
  } finally {
    run.finish();
    releaseIsolate(isolate, opts.memoryMb, run.reusable);
  }
}

function checkOptions(source: string, opts: SandboxOptions): void {
  if (typeof source !== 'string') throw new SandboxError('invalid', 'Code node script must be a string');
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) {
    throw new SandboxError('invalid', `timeoutMs must be a positive number, got ${opts.timeoutMs}`);
  }
  if (!Number.isInteger(opts.memoryMb) || opts.memoryMb < MIN_MEMORY_MB) {
    throw new SandboxError(
      'invalid',
      `memoryMb must be an integer of at least ${MIN_MEMORY_MB}, got ${opts.memoryMb}`,
    );
  }
}
