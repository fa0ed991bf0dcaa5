import { describe, expect, it } from 'vitest';
import { HubRotation, isIdempotent, neverDelivered, parseHubUrls } from '../../client/core/hubs.js';

describe('several hub URLs in the client core', () => {
  it('reads a comma list or an array: trimmed, trailing slashes dropped, duplicates removed, order kept', () => {
    expect(parseHubUrls(' http://a:1/, https://b:2 ,http://a:1')).toEqual(['http://a:1', 'https://b:2']);
    expect(parseHubUrls(['http://b:2/', 'http://a:1'])).toEqual(['http://b:2', 'http://a:1']);
  });

  it('names the setting and the bad entry', () => {
    expect(() => parseHubUrls('http://a:1,ftp://b', 'hubs')).toThrow(
      expect.objectContaining({
        code: 'bad_request',
        field: 'hubs',
        message: expect.stringContaining("'ftp://b'"),
      }),
    );
    expect(() => parseHubUrls(' , ')).toThrow(/no hub URL given/);
    expect(() => parseHubUrls('not a url')).toThrow(/'not a url' is not an http\(s\) URL/);
  });

  it('moves round the list, says when a round failed, and prefers the hub that answered', () => {
    const hubs = new HubRotation(['a', 'b', 'c']);
    expect(hubs.current).toBe('a');
    expect([hubs.advance(), hubs.current]).toEqual([false, 'b']);
    expect([hubs.advance(), hubs.current]).toEqual([false, 'c']);
    expect([hubs.advance(), hubs.current]).toEqual([true, 'a']);
    expect(hubs.failedRounds).toBe(1);
    hubs.succeeded('c');
    expect(hubs.order()).toEqual(['c', 'a', 'b']);
    expect(hubs.failedRounds).toBe(0);
  });

  it('backs off between failed rounds: doubling, capped, with jitter either way', () => {
    const hubs = new HubRotation(['a'], { delayMs: 100, delayMaxMs: 350, jitter: 0.5 });
    const delays = [1, 2, 3, 4].map(() => {
      hubs.advance();
      return [hubs.nextDelayMs(() => 0.5), hubs.nextDelayMs(() => 0), hubs.nextDelayMs(() => 1)];
    });
    expect(delays).toEqual([
      [100, 50, 150],
      [200, 100, 300],
      [350, 175, 525],
      [350, 175, 525],
    ]);
  });

  it('tells a request that never reached a hub from one that may have', () => {
    const refused = new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    const many = new TypeError('fetch failed', { cause: { errors: [{ code: 'ECONNREFUSED' }] } });
    const reset = new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
    expect(neverDelivered(refused)).toBe(true);
    expect(neverDelivered(many)).toBe(true);
    expect(neverDelivered(reset)).toBe(false);
    expect(neverDelivered(new Error('x'))).toBe(false);
    expect(['GET', 'put', 'DELETE'].map(isIdempotent)).toEqual([true, true, true]);
    expect(isIdempotent('POST')).toBe(false);
  });
});
