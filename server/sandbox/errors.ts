/** Why a sandboxed run ended without a value. `script` is the code's own error; the rest are the sandbox's. */
export type SandboxFailure = 'script' | 'timeout' | 'memory' | 'cancelled' | 'invalid';

/**
 * The error a code node run rejects with. A script error keeps the script's own `name` and `message` (and
 * a stack with only the code node's frames); the sandbox's own endings carry a fixed message and `failure`
 * says which one it was, so callers tell a cancel (control flow) from a failure without matching text.
 */
export class SandboxError extends Error {
  readonly failure: SandboxFailure;

  constructor(failure: SandboxFailure, message: string, opts: { name?: string; stack?: string } = {}) {
    super(message);
    this.failure = failure;
    this.name = opts.name ?? (failure === 'cancelled' ? 'AbortError' : 'SandboxError');
    if (opts.stack !== undefined) this.stack = opts.stack;
  }
}

export const timedOut = (ms: number): SandboxError =>
  new SandboxError('timeout', `Code node timed out after ${ms}ms`);

export const outOfMemory = (mb: number): SandboxError =>
  new SandboxError('memory', `Code node exceeded its memory limit of ${mb} MB`);

export const cancelled = (): SandboxError => new SandboxError('cancelled', 'cancelled');

/** isolated-vm appends the host's frames after this marker; they say nothing about the user's code. */
const BOUNDARY = '(<isolated-vm boundary>)';

/** Turns whatever the isolate threw (copied out by isolated-vm) into a SandboxError with the script's name. */
export function scriptError(thrown: unknown): SandboxError {
  if (thrown instanceof Error) {
    const stack = typeof thrown.stack === 'string' ? trimStack(thrown.stack) : undefined;
    return new SandboxError('script', thrown.message, { name: thrown.name, ...(stack ? { stack } : {}) });
  }
  if (isErrorLike(thrown)) {
    return new SandboxError('script', thrown.message, {
      name: thrown.name,
      ...(thrown.stack ? { stack: thrown.stack } : {}),
    });
  }
  // `throw 'text'`: no stack of its own, and the host's would only point at the sandbox.
  return new SandboxError('script', String(thrown), { name: 'Error', stack: `Error: ${String(thrown)}` });
}

interface ErrorLike {
  name: string;
  message: string;
  stack?: string;
}

export function isErrorLike(value: unknown): value is ErrorLike {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.name === 'string' && typeof v.message === 'string';
}

function trimStack(stack: string): string {
  const lines = stack.split('\n');
  const cut = lines.findIndex((line) => line.includes(BOUNDARY));
  // The runner's own frames (switchboard:prelude, switchboard:call-main) say nothing to the node's author.
  return (cut === -1 ? lines : lines.slice(0, cut))
    .filter((line) => !line.includes('(switchboard:') && !/at switchboard:/.test(line))
    .join('\n');
}
