import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { SessionEventStore } from '../../server/mcp/event-store.js';

const note = (n: number): JSONRPCMessage => ({
  jsonrpc: '2.0',
  method: 'notifications/message',
  params: { n },
});

async function replay(store: SessionEventStore, after: string) {
  const sent: Array<[string, JSONRPCMessage]> = [];
  const stream = await store.replayEventsAfter(after, {
    send: async (id, message) => {
      sent.push([id, message]);
    },
  });
  return { stream, sent };
}

describe('SessionEventStore (MCP resumption)', () => {
  it('replays what followed an event on its own stream only, without the priming event', async () => {
    const store = new SessionEventStore();
    const priming = await store.storeEvent('a', {} as JSONRPCMessage);
    const a1 = await store.storeEvent('a', note(1));
    await store.storeEvent('b', note(2));
    const a3 = await store.storeEvent('a', note(3));
    expect(await store.getStreamIdForEventId(a1)).toBe('a');
    const fromPriming = await replay(store, priming);
    expect(fromPriming.stream).toBe('a');
    expect(fromPriming.sent).toEqual([
      [a1, note(1)],
      [a3, note(3)],
    ]);
    expect((await replay(store, a1)).sent).toEqual([[a3, note(3)]]);
    expect((await replay(store, a3)).sent).toEqual([]);
  });

  it('stays within its limit, dropping the oldest; a resume after a dropped id gets what is left', async () => {
    const store = new SessionEventStore(3);
    const ids = [];
    for (let n = 1; n <= 5; n++) ids.push(await store.storeEvent('s', note(n)));
    expect(store.size).toBe(3);
    const { sent } = await replay(store, ids[0] as string);
    expect(sent.map(([, m]) => (m as unknown as { params: { n: number } }).params.n)).toEqual([3, 4, 5]);
  });

  it('knows no stream for ids it never gave out', async () => {
    const store = new SessionEventStore();
    await store.storeEvent('s', note(1));
    expect(await store.getStreamIdForEventId('nonsense')).toBeUndefined();
    expect(await store.getStreamIdForEventId('other.1')).toBeUndefined();
    expect((await replay(store, 'nonsense')).stream).toBe('');
  });
});
