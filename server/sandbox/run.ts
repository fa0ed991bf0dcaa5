import ivm from 'isolated-vm';
import { cancelled, isErrorLike, outOfMemory, type SandboxError, scriptError, timedOut } from './errors.js';
import { disposeQuietly } from './pool.js';
import { FIRE, HOST } from './prelude.js';
import { codeScript, runnerScripts } from './scripts.js';

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
    private readonly spare?: Promise<ivm.Context>,
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
    const scripts = await runnerScripts(this.isolate);
    const code = await codeScript(this.isolate, scripts, source);
    const context = await (this.spare ?? this.isolate.createContext());
    this.context = context;
    // Queued in order on the isolate's thread without waiting for each: only the code's own steps are
    // awaited (its top-level errors and main's outcome are what the caller needs to see).
    const global = context.global;
    global.setIgnored(
      `${HOST}Schedule`,
      new ivm.Callback((id: unknown, ms: unknown) => this.schedule(id, ms), { ignored: true }),
    );
    global.setIgnored(
      `${HOST}Unschedule`,
      new ivm.Callback((id: unknown) => this.unschedule(id), { ignored: true }),
    );
    global.setIgnored(`${HOST}Params`, JSON.stringify(params));
    scripts.prelude.runIgnored(context);
    await code.run(context);
    const json: unknown = await scripts.callMain.run(context, { promise: true });
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
    if (this.stopped || !this.context) return;
    try {
      this.fire ??= await this.context.global.get(FIRE, { reference: true });
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
