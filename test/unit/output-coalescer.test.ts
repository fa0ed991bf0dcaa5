import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutputCoalescer, splitText } from '../../extension-bridge/host/output-coalescer.js';
import type { OutputStream } from '../../extension-bridge/host/python-runner.js';

describe('OutputCoalescer', () => {
  let sent: Array<[OutputStream, string]>;
  let coalescer: OutputCoalescer;
  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    coalescer = new OutputCoalescer((stream, text) => sent.push([stream, text]), {
      delayMs: 50,
      maxChunkChars: 10,
    });
  });
  afterEach(() => vi.useRealTimers());

  it('sends the writes of one tick together, at most 50 ms after the first', () => {
    coalescer.push('stdout', 'a');
    coalescer.push('stdout', 'b');
    vi.advanceTimersByTime(49);
    expect(sent).toEqual([]);
    coalescer.push('stdout', 'c');
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([['stdout', 'abc']]);
  });

  it('keeps the order across streams', () => {
    coalescer.push('stdout', '1');
    coalescer.push('stderr', '2');
    coalescer.push('stderr', '3');
    coalescer.push('stdout', '4');
    coalescer.flush();
    expect(sent).toEqual([
      ['stdout', '1'],
      ['stderr', '23'],
      ['stdout', '4'],
    ]);
  });

  it('sends at once past the chunk size, split into chunks', () => {
    coalescer.push('stdout', '0123456789abcdefghij-');
    expect(sent).toEqual([
      ['stdout', '0123456789'],
      ['stdout', 'abcdefghij'],
      ['stdout', '-'],
    ]);
  });

  it('sends nothing for empty writes or an empty flush', () => {
    coalescer.push('stdout', '');
    coalescer.flush();
    vi.runAllTimers();
    expect(sent).toEqual([]);
  });
});

describe('splitText', () => {
  it('never splits a surrogate pair', () => {
    const chunks = splitText('ab😀cd', 3);
    expect(chunks).toEqual(['ab', '😀c', 'd']);
    expect(chunks.join('')).toBe('ab😀cd');
  });
});
