import { createHash } from 'node:crypto';
import type { PolicyVerdict } from './types.js';

/** How many verdicts a policy remembers (most recently used kept): a hub's repeated snippets, not every task. */
export const VERDICT_CACHE_SIZE = 1_024;
/** Code up to this many characters is its own key (at most 1 MB of keys); longer code is keyed by its hash. */
const INLINE_KEY_CHARS = 1_024;

/**
 * Verdicts by code (short code as itself, longer code by its SHA-256), so code submitted again (a monitor's
 * re-run, an agent's polling snippet) is not parsed again. A cache belongs to one policy and is made with
 * that policy's version (a hash of its options): a verdict is never served under rules other than those it
 * was reached with.
 */
export class VerdictCache {
  private readonly verdicts = new Map<string, PolicyVerdict>();

  constructor(
    readonly version: string,
    private readonly size = VERDICT_CACHE_SIZE,
  ) {}

  /** The verdict for `code`, from the cache or from `judge` (then kept, frozen: callers share it). */
  get(code: string, judge: (code: string) => PolicyVerdict): PolicyVerdict {
    // The prefixes keep the two kinds of key apart.
    const key =
      code.length <= INLINE_KEY_CHARS ? `=${code}` : `#${createHash('sha256').update(code).digest('base64')}`;
    const hit = this.verdicts.get(key);
    if (hit) {
      // Most recently used last: the Map's order is the eviction order.
      this.verdicts.delete(key);
      this.verdicts.set(key, hit);
      return hit;
    }
    const verdict = judge(code);
    for (const v of verdict.violations) Object.freeze(v);
    Object.freeze(verdict.violations);
    this.verdicts.set(key, Object.freeze(verdict));
    if (this.verdicts.size > this.size) this.verdicts.delete(this.verdicts.keys().next().value as string);
    return verdict;
  }

  get cached(): number {
    return this.verdicts.size;
  }
}

/** A policy's version: a hash of everything that decides its verdicts. */
export function policyVersion(options: unknown): string {
  return createHash('sha256').update(JSON.stringify(options)).digest('hex').slice(0, 16);
}
