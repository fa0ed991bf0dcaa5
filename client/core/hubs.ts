/**
 * Several hub URLs (processes of one scaled-out hub, sharing Redis): which one to use now, which one next, and
 * how long to wait between full rounds. Shared by the SDK, the CLI and the reference host so they all read a
 * list the same way and back off alike. No Node APIs here, so the monitor could use it as well.
 */
import { SwitchboardError } from './errors.js';

/** Backoff between full rounds of the list: doubling from `delayMs` up to `delayMaxMs`, with jitter. */
export interface Backoff {
  delayMs: number;
  delayMaxMs: number;
  /** 0..1: each delay is moved up or down by up to this fraction, so clients do not come back in step. */
  jitter: number;
}

export const DEFAULT_BACKOFF: Backoff = { delayMs: 1_000, delayMaxMs: 5_000, jitter: 0.5 };

/**
 * Reads hub URLs from a comma-separated string (env, flag) or a list: each an http(s) URL, trailing slashes
 * dropped, duplicates removed, order kept. `field` names the setting in the error.
 */
export function parseHubUrls(input: string | readonly string[], field = 'url'): string[] {
  const items = (typeof input === 'string' ? input.split(',') : [...input]).map((u) => u.trim());
  const urls: string[] = [];
  for (const raw of items.filter(Boolean)) {
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new SwitchboardError(
        'bad_request',
        `${field}: '${raw}' is not an http(s) URL (e.g. http://127.0.0.1:4000)`,
        { field },
      );
    }
    const clean = raw.replace(/\/+$/, '');
    if (!urls.includes(clean)) urls.push(clean);
  }
  if (urls.length === 0) throw new SwitchboardError('bad_request', `${field}: no hub URL given`, { field });
  return urls;
}

/**
 * The list and a cursor on it. `current` is the hub in use (or to try first); `advance()` moves to the next
 * and says whether that completed a round without success, after which the caller waits `nextDelayMs()`.
 */
export class HubRotation {
  readonly urls: readonly string[];
  readonly #backoff: Backoff;
  #index = 0;
  /** URLs tried since the last success; a full round means every hub failed once. */
  #failedInRound = 0;
  #rounds = 0;

  constructor(urls: readonly string[], backoff: Partial<Backoff> = {}) {
    if (urls.length === 0) throw new Error('HubRotation needs at least one URL');
    this.urls = urls;
    this.#backoff = { ...DEFAULT_BACKOFF, ...backoff };
  }

  get current(): string {
    return this.urls[this.#index] as string;
  }

  get several(): boolean {
    return this.urls.length > 1;
  }

  /** The URLs in the order to try them now: the current one first, then the rest in list order. */
  order(): string[] {
    return this.urls.map((_, i) => this.urls[(this.#index + i) % this.urls.length] as string);
  }

  /** The hub at `url` answered: prefer it from now on and start the backoff afresh. */
  succeeded(url = this.current): void {
    const i = this.urls.indexOf(url);
    if (i >= 0) this.#index = i;
    this.#failedInRound = 0;
    this.#rounds = 0;
  }

  /** The current hub failed: moves to the next. True when every hub has now failed in this round. */
  advance(): boolean {
    this.#index = (this.#index + 1) % this.urls.length;
    this.#failedInRound += 1;
    if (this.#failedInRound < this.urls.length) return false;
    this.#failedInRound = 0;
    this.#rounds += 1;
    return true;
  }

  /** Rounds in a row in which every hub failed. */
  get failedRounds(): number {
    return this.#rounds;
  }

  /** The wait before the next round: doubling per failed round, capped, with jitter. */
  nextDelayMs(random: () => number = Math.random): number {
    const { delayMs, delayMaxMs, jitter } = this.#backoff;
    const base = Math.min(delayMaxMs, delayMs * 2 ** Math.max(0, this.#rounds - 1));
    const spread = base * jitter * (random() * 2 - 1);
    return Math.max(0, Math.round(base + spread));
  }
}

/**
 * Transport failures that prove the request never reached a hub (nothing was sent), so even a
 * non-idempotent request may go to another one. A reset or a close after connecting may have been seen.
 */
const NOT_DELIVERED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function causeCodes(err: unknown, depth = 0): string[] {
  if (typeof err !== 'object' || err === null || depth > 4) return [];
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof e.code === 'string' ? [e.code] : [];
  const nested = Array.isArray(e.errors) ? e.errors.flatMap((x) => causeCodes(x, depth + 1)) : [];
  return [...own, ...nested, ...causeCodes(e.cause, depth + 1)];
}

/** True when a request's failure shows no hub received it (connection refused, unknown host...). */
export function neverDelivered(err: unknown): boolean {
  const codes = causeCodes(err);
  return codes.length > 0 && codes.some((c) => NOT_DELIVERED.has(c));
}

/** Methods whose repetition does no harm: they may be retried on another hub after any transport failure. */
export function isIdempotent(method: string): boolean {
  return ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'].includes(method.toUpperCase());
}
