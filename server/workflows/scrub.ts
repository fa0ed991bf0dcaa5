/** Vault values shorter than this are not searched for: a one-letter "secret" would mangle every event. */
const MIN_SECRET_LENGTH = 4;

export const REDACTED = '[redacted]';

/**
 * Replaces every occurrence of a run's secrets (vault values, API keys) in whatever the run is about to
 * publish. Tools and models may echo what they were sent; this is the last gate before events and the store.
 */
export class Scrubber {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string | undefined>) {
    this.secrets = [...new Set([...secrets].filter((s): s is string => !!s && s.length >= MIN_SECRET_LENGTH))]
      // Longest first, so a secret containing another is replaced whole.
      .sort((a, b) => b.length - a.length);
  }

  scrub<T>(value: T): T {
    if (this.secrets.length === 0) return value;
    return this.walk(value) as T;
  }

  text(value: string): string {
    let out = value;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.text(k), this.walk(v)]));
    }
    return value;
  }
}
