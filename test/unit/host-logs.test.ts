import { describe, expect, it } from 'vitest';
import { HostLogs } from '../../server/dispatch/host-logs.js';

const line = (message: string, level: 'info' | 'warn' = 'warn') => ({
  ts: '2026-12-01T08:00:00.000Z',
  level,
  source: 'omni.usd',
  message,
});

describe('the host log stream the hub keeps per extension', () => {
  it('numbers lines per extension and reads them after a seq', () => {
    const logs = new HostLogs(100);
    logs.append('a', [line('one'), line('two')]);
    logs.append('b', [line('other')]);
    logs.append('a', [line('three')]);
    expect(logs.read('a').lines.map((l) => [l.seq, l.message])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);
    expect(logs.read('a', 2)).toMatchObject({ lines: [{ seq: 3, extensionId: 'a' }], dropped: 0 });
    expect(logs.read('b').lines).toHaveLength(1);
    expect(logs.read('nobody')).toEqual({ lines: [], dropped: 0 });
  });

  it('is bounded: the oldest lines go, and a reader is told how many it missed', () => {
    const logs = new HostLogs(10);
    for (let i = 1; i <= 25; i++) logs.append('a', [line(`line ${i}`)]);
    const kept = logs.read('a');
    expect(kept.lines).toHaveLength(10);
    expect(kept.lines[0]).toMatchObject({ seq: 16, message: 'line 16' });
    expect(kept.dropped).toBe(15);
    expect(logs.read('a', 20)).toMatchObject({ dropped: 0 });
  });

  it("counts the lines the host's own buffer dropped as a gap in seq", () => {
    const logs = new HostLogs(100);
    logs.append('a', [line('before')]);
    logs.append('a', [line('after')], 5);
    expect(logs.read('a').lines.map((l) => l.seq)).toEqual([1, 7]);
  });

  it('delivers live lines to followers until they stop following', () => {
    const logs = new HostLogs(100);
    const seen: string[] = [];
    const stop = logs.follow('a', (l) => seen.push(l.message));
    logs.append('a', [line('live')]);
    logs.append('b', [line('elsewhere')]);
    stop();
    logs.append('a', [line('after stop')]);
    expect(seen).toEqual(['live']);
  });
});
