import type ivm from 'isolated-vm';
import { cancelled } from './errors.js';
import { Execution, installHost } from './execution.js';
import { runSandboxed, type SandboxOptions } from './index.js';
import { acquireIsolate, disposeQuietly, releaseIsolate } from './pool.js';
import { FIRE, RESET } from './prelude.js';
import { runnerScripts, strict } from './scripts.js';

export type SessionLimits = Omit<SandboxOptions, 'signal'>;

const MISSING_MAIN =
  'Code node must define a function main({ params }), e.g. async function main({ params }) { return {} }';

/**
 * The code node's source wrapped in a loader function: each execution calls the loader, so the code's
 * top-level declarations (`let`, `const`, `var`, `function main`) are made afresh every time, as in a fresh
 * context, while the source is compiled once. The wrapper's head shares line 1 with the code so the code's
 * line numbers in stacks stay as written. Only explicit changes to globalThis or to built-ins outlive an
 * execution, and only within the session (one code node of one task).
 */
function sessionScript(source: string): string {
  return `(() => { const reset = globalThis.${RESET}; const { parse, stringify } = JSON; const load = function () { 'use strict'; ${source}
;return typeof main === 'function' ? main : undefined; };
return function (json) {
  reset();
  const main = load();
  if (typeof main !== 'function') throw new TypeError(${JSON.stringify(MISSING_MAIN)});
  const params = json === undefined ? undefined : parse(json);
  // Timers still pending when main settles are dropped here, in the isolate: none can fire after it.
  return Promise.resolve(main({ params })).then((value) => { reset(); return stringify(value); });
}; })()`;
}

interface Live {
  isolate: ivm.Isolate;
  context: ivm.Context;
  call: ivm.Reference;
  fire: ivm.Reference;
}

/**
 * One code node's sandbox for the length of one task: an isolate and a context made on the first execution,
 * the code compiled once, and every later execution (a loop body's next iteration) one call into it with
 * fresh params and freshly made top-level state. Each execution has its own wall-clock limit and abort
 * signal; the isolate's heap limit holds throughout. An execution that times out, runs out of memory, is
 * cancelled or fails from a timer disposes the isolate: the next execution starts a new one. `dispose()`
 * (the task ended) gives a healthy isolate back to the pool. An execution started while another is running
 * (never the case in a loop, whose iterations run one after the other) runs on its own, as `runSandboxed`.
 */
export class SandboxSession {
  private live: Promise<Live> | undefined;
  private current: SessionExecution | undefined;
  private closed = false;

  constructor(
    readonly source: string,
    private readonly limits: SessionLimits,
  ) {}

  async run(params: unknown, signal?: AbortSignal): Promise<unknown> {
    if (this.closed || this.current) return runSandboxed(this.source, params, { ...this.limits, signal });
    if (signal?.aborted) throw cancelled();
    const execution = new SessionExecution(this, this.limits, signal);
    this.current = execution;
    try {
      return await execution.execute(params);
    } finally {
      execution.finish();
      this.current = undefined;
    }
  }

  /** Ends the session: an execution still running is stopped with its isolate; an idle isolate is pooled. */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    // A task's end aborts its nodes first; should an execution still be going, it ends as cancelled.
    this.current?.cancel();
    const live = this.live;
    this.live = undefined;
    if (!live) return;
    const running = this.current !== undefined;
    live.then(
      (l) => this.release(l, !running),
      () => undefined,
    );
  }

  /** The session's isolate and context, made on first use (and again after a failure discarded them). */
  open(): Promise<Live> {
    if (!this.live) {
      const opening = this.create();
      this.live = opening;
      // A failed start (a syntax error) leaves nothing behind: the next execution tries again.
      opening.catch(() => {
        if (this.live === opening) this.live = undefined;
      });
    }
    return this.live;
  }

  /** Drops the isolate after an execution ended in a way that leaves it dead or suspect. */
  discard(isolate: ivm.Isolate | undefined): void {
    const live = this.live;
    this.live = undefined;
    if (isolate) disposeQuietly(isolate);
    live?.then(
      (l) => disposeQuietly(l.isolate),
      () => undefined,
    );
  }

  private async create(): Promise<Live> {
    const { isolate, spare } = acquireIsolate(this.limits.memoryMb);
    this.opening = isolate;
    try {
      const scripts = await runnerScripts(isolate);
      // Compiled alone first: what is not a valid script on its own (an import statement, a stray `}`
      // that would close the loader) is refused with the code's own SyntaxError.
      const alone = await isolate.compileScript(strict(this.source), { filename: 'code-node.js' });
      alone.release();
      const wrapped = await isolate.compileScript(sessionScript(this.source), { filename: 'code-node.js' });
      const context = await (spare ?? isolate.createContext());
      installHost(context, scripts.prelude, () => this.current);
      const call = (await wrapped.run(context, { reference: true })) as ivm.Reference;
      wrapped.release();
      const fire = (await context.global.get(FIRE, { reference: true })) as ivm.Reference;
      if (this.closed) {
        // The task ended while the session was starting.
        disposeQuietly(isolate);
        throw cancelled();
      }
      return { isolate, context, call, fire };
    } catch (error) {
      if (isolate.isDisposed || this.closed) throw error;
      releaseIsolate(isolate, this.limits.memoryMb, true);
      throw error;
    } finally {
      this.opening = undefined;
    }
  }

  /** The isolate being set up right now, so a stop during `create` can dispose it. */
  opening: ivm.Isolate | undefined;

  private release(live: Live, reusable: boolean): void {
    live.call.release();
    live.fire.release();
    if (live.isolate.isDisposed) return;
    if (!reusable) {
      disposeQuietly(live.isolate);
      return;
    }
    live.context.release();
    releaseIsolate(live.isolate, this.limits.memoryMb, true);
  }
}

/** One execution in a session: its deadline, its abort signal, its timers (`Execution`), in the session's isolate. */
class SessionExecution extends Execution {
  private live: Live | undefined;

  constructor(
    private readonly session: SandboxSession,
    limits: SessionLimits,
    signal: AbortSignal | undefined,
  ) {
    super(limits, signal);
  }

  execute(params: unknown): Promise<unknown> {
    return this.guard(() => this.work(params));
  }

  cancel(): void {
    this.stop(cancelled());
  }

  protected halt(): void {
    this.session.discard(this.live?.isolate ?? this.session.opening);
  }

  protected isolateNow(): ivm.Isolate | undefined {
    return this.live?.isolate;
  }

  protected override lost(isolate: ivm.Isolate): void {
    this.session.discard(isolate);
  }

  protected async timerFunction(): Promise<ivm.Reference | undefined> {
    return this.live?.fire;
  }

  private async work(params: unknown): Promise<unknown> {
    const live = await this.session.open();
    if (this.stopped) return undefined;
    this.live = live;
    const json = params === undefined ? undefined : JSON.stringify(params);
    const out: unknown = await live.call.apply(undefined, [json], { result: { promise: true } });
    return typeof out === 'string' ? JSON.parse(out) : undefined;
  }
}
