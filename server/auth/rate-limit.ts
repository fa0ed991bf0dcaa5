/** Token bucket per key (a token, or an address for anonymous calls): `perMinute` sustained, same burst. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly refillPerMs: number;

  constructor(private readonly perMinute: number) {
    this.refillPerMs = perMinute / 60_000;
  }

  /** Whether the key has a unit left, without taking it. */
  allows(key: string, now = Date.now()): boolean {
    if (this.perMinute <= 0) return true;
    const b = this.buckets.get(key);
    return !b || Math.min(this.perMinute, b.tokens + (now - b.at) * this.refillPerMs) >= 1;
  }

  /** Takes one unit; false when the key is over its limit. A limit of 0 turns limiting off. */
  take(key: string, now = Date.now()): boolean {
    if (this.perMinute <= 0) return true;
    const b = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    b.tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * this.refillPerMs);
    b.at = now;
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      return false;
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
    return true;
  }
}
