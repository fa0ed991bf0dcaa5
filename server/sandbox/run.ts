import type ivm from 'isolated-vm';
import { Execution, installHost } from './execution.js';
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
export class SandboxRun extends Execution {
  private context: ivm.Context | undefined;
  private fire: ivm.Reference | undefined;

  constructor(
    private readonly isolate: ivm.Isolate,
    limits: RunLimits,
    private readonly spare?: Promise<ivm.Context>,
  ) {
    super(limits, limits.signal);
  }

  /** True when the isolate may serve another run: nothing stopped it and nothing it did is still queued. */
  get reusable(): boolean {
    return this.stopped === undefined && !this.isolate.isDisposed;
  }

  execute(source: string, params: unknown): Promise<unknown> {
    return this.guard(() => this.work(source, params));
  }

  /** Clears every host-side trace of the run: the deadline, pending timers, the context. */
  override finish(): void {
    super.finish();
    this.fire?.release();
    if (!this.isolate.isDisposed) this.context?.release();
  }

  protected halt(): void {
    disposeQuietly(this.isolate);
  }

  protected isolateNow(): ivm.Isolate {
    return this.isolate;
  }

  protected async timerFunction(): Promise<ivm.Reference | undefined> {
    if (!this.context) return undefined;
    this.fire ??= await this.context.global.get(FIRE, { reference: true });
    return this.fire;
  }

  private async work(source: string, params: unknown): Promise<unknown> {
    const scripts = await runnerScripts(this.isolate);
    const code = await codeScript(this.isolate, scripts, source);
    const context = await (this.spare ?? this.isolate.createContext());
    this.context = context;
    // Queued in order on the isolate's thread without waiting for each: only the code's own steps are
    // awaited (its top-level errors and main's outcome are what the caller needs to see).
    context.global.setIgnored(`${HOST}Params`, JSON.stringify(params));
    installHost(context, scripts.prelude, () => this);
    await code.run(context);
    const json: unknown = await scripts.callMain.run(context, { promise: true });
    return typeof json === 'string' ? JSON.parse(json) : undefined;
  }
}
