import ivm from 'isolated-vm';
import { cancelled, isErrorLike, outOfMemory, type SandboxError, scriptError, timedOut } from './errors.js';
import { HOST } from './prelude.js';

export interface ExecutionLimits {
  timeoutMs: number;
  memoryMb: number;
}

/** What the prelude's setTimeout/clearTimeout call on the host: the execution that owns the context now. */
export interface TimerHost {
  schedule(id: unknown, ms: unknown): void;
  unschedule(id: unknown): void;
}

/**
 * Puts the host's timer callbacks on a context's global and runs the prelude, which takes them (and the
 * params, when the caller has put them there first) off the global again. `host` is asked at each call, so a
 * session's context serves whichever execution is current.
 */
export function installHost(
  context: ivm.Context,
  prelude: ivm.Script,
  host: () => TimerHost | undefined,
): void {
  const global = context.global;
  global.setIgnored(
    `${HOST}Schedule`,
    new ivm.Callback((id: unknown, ms: unknown) => host()?.schedule(id, ms), { ignored: true }),
  );
  global.setIgnored(
    `${HOST}Unschedule`,
    new ivm.Callback((id: unknown) => host()?.unschedule(id), { ignored: true }),
  );
  prelude.runIgnored(context);
}

/**
 * One code execution's control, shared by a one-off run (`SandboxRun`) and a session's execution: the
 * wall-clock deadline (a host timer covering sync CPU, awaited promises and timers alike), the abort signal,
 * the code's timers, and turning how it ended into a SandboxError. A stop (deadline, abort, a failing timer)
 * halts the isolate and wins over whatever the work does after it.
 */
export abstract class Execution implements TimerHost {
  protected stopped: SandboxError | undefined;
  private rejectStop: ((error: SandboxError) => void) | undefined;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private deadline: NodeJS.Timeout | undefined;
  private readonly onAbort = (): void => this.stop(cancelled());

  constructor(
    protected readonly limits: ExecutionLimits,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** Stops the code: dispose (or give up) the isolate it runs in. */
  protected abstract halt(): void;
  /** The isolate the code runs in, once known. */
  protected abstract isolateNow(): ivm.Isolate | undefined;
  /** The prelude's timer-firing function in the code's context, once there is one. */
  protected abstract timerFunction(): Promise<ivm.Reference | undefined>;
  /** The isolate died under the code (its heap limit): forget it. */
  protected lost(_isolate: ivm.Isolate): void {}

  /** Runs `work` under the deadline and the abort signal. */
  protected async guard(work: () => Promise<unknown>): Promise<unknown> {
    const stop = new Promise<never>((_, reject) => {
      this.rejectStop = reject;
    });
    this.deadline = setTimeout(() => this.stop(timedOut(this.limits.timeoutMs)), this.limits.timeoutMs);
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    const running = work();
    // Once stopped, `running` rejects with isolated-vm's "disposed" error; the stop reason is what counts.
    running.catch(() => undefined);
    try {
      return await Promise.race([running, stop]);
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** Clears every host-side trace of the execution: the deadline, the abort listener, pending timers. */
  finish(): void {
    clearTimeout(this.deadline);
    this.signal?.removeEventListener('abort', this.onAbort);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  schedule(id: unknown, ms: unknown): void {
    if (typeof id !== 'number' || typeof ms !== 'number' || this.stopped) return;
    clearTimeout(this.timers.get(id));
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        void this.fireTimer(id);
      }, ms),
    );
  }

  unschedule(id: unknown): void {
    if (typeof id !== 'number') return;
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }

  protected stop(reason: SandboxError): void {
    if (this.stopped) return;
    this.stopped = reason;
    this.halt();
    this.rejectStop?.(reason);
  }

  private async fireTimer(id: number): Promise<void> {
    if (this.stopped) return;
    try {
      const fire = await this.timerFunction();
      if (!fire) return;
      const thrown: unknown = await fire.apply(undefined, [id], { result: { copy: true } });
      if (isErrorLike(thrown)) this.stop(scriptError(thrown));
    } catch (error) {
      this.stop(this.translate(error));
    }
  }

  private translate(error: unknown): SandboxError {
    if (this.stopped) return this.stopped;
    const isolate = this.isolateNow();
    // isolated-vm disposes an isolate that hits its heap limit itself and says so in the error.
    if (isolate?.isDisposed) {
      this.lost(isolate);
      if (error instanceof Error && /memory limit/i.test(error.message))
        return outOfMemory(this.limits.memoryMb);
    }
    return scriptError(error);
  }
}
