/**
 * PLACEHOLDER, to be replaced by the isolated-vm runner (issue 8, the tools branch). Same signature and error
 * messages; node:vm is NOT a security boundary and cannot enforce the memory limit, so this file exists only
 * so the FlowGram engine and its conformance suite can run before the real sandbox is merged.
 */
import vm from 'node:vm';

export interface SandboxOptions {
  timeoutMs: number;
  memoryMb: number;
  signal?: AbortSignal;
}

/** Runs FlowGram's `async function main({ params })` and resolves with its (JSON-copied) return value. */
export async function runSandboxed(source: string, params: unknown, opts: SandboxOptions): Promise<unknown> {
  if (opts.signal?.aborted) throw new Error('cancelled');
  const context = vm.createContext({ __params__: JSON.parse(JSON.stringify(params ?? {})) });
  const wrapped = `'use strict';\n${source}\n;if (typeof main !== 'function') { throw new Error('main function is required in the script'); }\nPromise.resolve(main({ params: __params__ })).then((v) => JSON.stringify(v === undefined ? null : v));`;
  const pending = vm.runInContext(wrapped, context, { timeout: opts.timeoutMs }) as Promise<string>;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const json = await Promise.race([
      pending,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Code node timed out after ${opts.timeoutMs}ms`)),
          opts.timeoutMs,
        );
        onAbort = () => reject(new Error('cancelled'));
        opts.signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    return JSON.parse(json) as unknown;
  } catch (err) {
    if (err instanceof Error && /Script execution timed out/.test(err.message))
      throw new Error(`Code node timed out after ${opts.timeoutMs}ms`);
    // Errors thrown inside the context come from another realm: normalise to a host Error.
    const message = err && typeof err === 'object' && 'message' in err ? String(err.message) : String(err);
    throw new Error(message);
  } finally {
    clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
  }
}
