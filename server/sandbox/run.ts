import ivm from 'isolated-vm';
import { cancelled, isErrorLike, outOfMemory, type SandboxError, scriptError, timedOut } from './errors.js';
import { disposeQuietly } from './pool.js';
import { CALL_MAIN, PRELUDE } from './prelude.js';

export interface RunLimits {
  timeoutMs: number;
  memoryMb: number;
  signal?: AbortSignal;
}

/**
 * One code node execution in a borrowed isolate. The wall-clock limit is a host timer, not isolated-vm's
 * per-call `timeout`: it covers the whole run (sync CPU, awaited promises, timers) and ends it by disposing
 * the isolate, which stops a `while (true) {}` on the isolate's thread while the hub's event loop, never
 * blocked (only async isolated-vm calls are used), goes on serving everyone else.
 */
export class SandboxRun {
  private stopped: SandboxError | undefined;
  private rejectStop: ((error: SandboxError) => void) | undefined;
  private context: ivm.Context | undefined;
  private fire: ivm.Reference | undefined;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private deadline: NodeJS.Timeout | undefined;
  private readonly onAbort = (): void => this.stop(cancelled());

  constructor(
    private readonly isolate: ivm.Isolate,
    private readonly limits: RunLimits,
  ) {}

  /** True when the isolate may serve another run: nothing stopped it and nothing it did is still queued. */
  get reusable(): boolean {
    return this.stopped === undefined && !this.isolate.isDisposed;
  }

  async execute(source: string, params: unknown): Promise<unknown> {
    const stop = new Promise<never>((_, reject) => {
      this.rejectStop = reject;
    });
    this.deadline = setTimeout(() => this.stop(timedOut(this.limits.timeoutMs)), this.limits.timeoutMs);
    this.limits.signal?.addEventListener('abort', this.onAbort, { once: true });
    const work = this.work(source, params);
    // Once stopped, `work` rejects with isolated-vm's "disposed" error; the stop reason is what counts.
    work.catch(() => undefined);
    try {
      return await Promise.race([work, stop]);
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** Clears every host-side trace of the run: the deadline, pending timers, the context. */
  finish(): void {
    clearTimeout(this.deadline);
    this.limits.signal?.removeEventListener('abort', this.onAbort);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.fire?.release();
    if (!this.isolate.isDisposed) this.context?.release();
  }

  private async work(source: string, params: unknown): Promise<unknown> {
    const context = await this.isolate.createContext();
    this.context = context;
    this.fire = await context.evalClosure(
      PRELUDE,
      [
        new ivm.Callback((id: unknown, ms: unknown) => this.schedule(id, ms), { ignored: true }),
        new ivm.Callback((id: unknown) => this.unschedule(id), { ignored: true }),
      ],
      { result: { reference: true } },
    );
    const script = await this.isolate.compileScript(source, { filename: 'code-node.js' });
    try {
      await script.run(context);
    } finally {
      script.release();
    }
    const json: unknown = await context.evalClosure(CALL_MAIN, [JSON.stringify(params)], {
      result: { promise: true },
    });
    return typeof json === 'string' ? JSON.parse(json) : undefined;
  }

  private schedule(id: unknown, ms: unknown): void {
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

  private unschedule(id: unknown): void {
    if (typeof id !== 'number') return;
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }

  private async fireTimer(id: number): Promise<void> {
    if (this.stopped || !this.fire) return;
    try {
      const thrown: unknown = await this.fire.apply(undefined, [id], { result: { copy: true } });
      if (isErrorLike(thrown)) this.stop(scriptError(thrown));
    } catch (error) {
      this.stop(this.translate(error));
    }
  }

  private stop(reason: SandboxError): void {
    if (this.stopped) return;
    this.stopped = reason;
    disposeQuietly(this.isolate);
    this.rejectStop?.(reason);
  }

  private translate(error: unknown): SandboxError {
    if (this.stopped) return this.stopped;
    // isolated-vm disposes an isolate that hits its heap limit itself and says so in the error.
    if (this.isolate.isDisposed && error instanceof Error && /memory limit/i.test(error.message)) {
      return outOfMemory(this.limits.memoryMb);
    }
    return scriptError(error);
  }
}
