import ivm from 'isolated-vm';

/**
 * Idle isolates kept per memory limit. Creating an isolate costs a few ms and a V8 heap; a fresh context
 * in a warm isolate costs well under one, so runs borrow an isolate, get a context of their own (nothing
 * a run defines is visible to the next) and give the isolate back. A run has its isolate to itself: a
 * memory bomb or a timeout disposes it without touching anyone else's code.
 */
const MAX_IDLE_PER_LIMIT = 4;
/** Past this share of its limit a returned isolate is dropped rather than kept (its heap is not worth GC'ing). */
const MAX_HEAP_SHARE = 0.5;
/** Heap statistics are a call into the isolate: look every few runs, not after each one. */
const HEAP_CHECK_EVERY = 16;
/** Bound any slow growth of an isolate's internals over a long-lived hub. */
const MAX_RUNS_PER_ISOLATE = 5_000;

interface Pooled {
  isolate: ivm.Isolate;
  runs: number;
  /**
   * A fresh context made for the next run while the isolate sat idle: context creation is most of a
   * small run's cost, and made ahead it overlaps with the engine's own work on the main thread.
   */
  spare: Promise<ivm.Context> | undefined;
}

/** A borrowed isolate and, when the pool had one ready, an unused fresh context in it. */
export interface Borrowed {
  isolate: ivm.Isolate;
  spare: Promise<ivm.Context> | undefined;
}

const idle = new Map<number, Pooled[]>();
const owners = new WeakMap<ivm.Isolate, Pooled>();
/** Isolates lent out and not yet given back or disposed: code running, or a session holding one. */
const lent = new Set<ivm.Isolate>();

/** How many isolates are lent out right now (tests: a cancelled or ended run leaves none behind). */
export function lentIsolates(): number {
  for (const isolate of lent) if (isolate.isDisposed) lent.delete(isolate);
  return lent.size;
}

export function acquireIsolate(memoryMb: number): Borrowed {
  const list = idle.get(memoryMb);
  while (list && list.length > 0) {
    const pooled = list.pop() as Pooled;
    if (!pooled.isolate.isDisposed) {
      pooled.runs += 1;
      const { spare } = pooled;
      pooled.spare = undefined;
      lent.add(pooled.isolate);
      return { isolate: pooled.isolate, spare };
    }
  }
  const isolate = new ivm.Isolate({ memoryLimit: memoryMb });
  owners.set(isolate, { isolate, runs: 1, spare: undefined });
  lent.add(isolate);
  return { isolate, spare: undefined };
}

/** Gives a borrowed isolate back; `reusable` is false when the run ended in a way that leaves it suspect. */
export function releaseIsolate(isolate: ivm.Isolate, memoryMb: number, reusable: boolean): void {
  lent.delete(isolate);
  if (isolate.isDisposed) return;
  const pooled = owners.get(isolate);
  const list = idle.get(memoryMb) ?? [];
  if (!reusable || !pooled || pooled.runs >= MAX_RUNS_PER_ISOLATE || list.length >= MAX_IDLE_PER_LIMIT) {
    disposeQuietly(isolate);
    return;
  }
  const heap = pooled.runs % HEAP_CHECK_EVERY === 0 ? isolate.getHeapStatisticsSync() : undefined;
  if (
    heap &&
    heap.used_heap_size + heap.externally_allocated_size > memoryMb * 1024 * 1024 * MAX_HEAP_SHARE
  ) {
    disposeQuietly(isolate);
    return;
  }
  pooled.spare = isolate.createContext();
  // Disposed while idle (drain): the spare is never used, its rejection is expected.
  pooled.spare.catch(() => undefined);
  list.push(pooled);
  idle.set(memoryMb, list);
}

/** Disposes every idle isolate (a hub closing, a test ending). Running ones end with their runs. */
export function drainSandboxPool(): void {
  for (const list of idle.values()) for (const pooled of list) disposeQuietly(pooled.isolate);
  idle.clear();
}

export function disposeQuietly(isolate: ivm.Isolate): void {
  lent.delete(isolate);
  try {
    if (!isolate.isDisposed) isolate.dispose();
  } catch {
    // Already being torn down by isolated-vm (memory limit): nothing left to free.
  }
}
