import type ivm from 'isolated-vm';
import { CALL_MAIN, PRELUDE } from './prelude.js';

/**
 * Compiled scripts per isolate. A Script belongs to the isolate that compiled it but runs in any of its
 * contexts, so the runner's own scripts compile once per isolate and a code node's source once per
 * isolate too (a loop body runs the same source a thousand times): a fresh context per run stays cheap.
 */
const MAX_SOURCES = 64;

interface Compiled {
  prelude: ivm.Script;
  callMain: ivm.Script;
  sources: Map<string, ivm.Script>;
}

const cache = new WeakMap<ivm.Isolate, Compiled>();

export async function runnerScripts(isolate: ivm.Isolate): Promise<Compiled> {
  let compiled = cache.get(isolate);
  if (!compiled) {
    const [prelude, callMain] = await Promise.all([
      isolate.compileScript(PRELUDE, { filename: 'switchboard:prelude' }),
      isolate.compileScript(CALL_MAIN, { filename: 'switchboard:call-main' }),
    ]);
    compiled = cache.get(isolate) ?? { prelude, callMain, sources: new Map() };
    cache.set(isolate, compiled);
  }
  return compiled;
}

/** The code node's script, compiled on first use in this isolate (a SyntaxError rejects, uncached). */
export async function codeScript(
  isolate: ivm.Isolate,
  compiled: Compiled,
  source: string,
): Promise<ivm.Script> {
  const hit = compiled.sources.get(source);
  if (hit) {
    // Refresh its place: the map's order is the eviction order.
    compiled.sources.delete(source);
    compiled.sources.set(source, hit);
    return hit;
  }
  const script = await isolate.compileScript(strict(source), { filename: 'code-node.js' });
  compiled.sources.set(source, script);
  if (compiled.sources.size > MAX_SOURCES) {
    const [oldest, old] = compiled.sources.entries().next().value as [string, ivm.Script];
    compiled.sources.delete(oldest);
    old.release();
  }
  return script;
}

/**
 * Code nodes run in strict mode, as in FlowGram's runtime. The directive shares the code's first line, so
 * the code's line numbers in stacks stay as written.
 */
export const strict = (source: string): string => `'use strict'; ${source}`;
