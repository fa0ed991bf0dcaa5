import type { EventId, EventStore, StreamId } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

interface Entry {
  n: number;
  id: EventId;
  streamId: StreamId;
  message: JSONRPCMessage;
}

/** Messages one session keeps for resumption; past it the oldest go (a resume then starts after a gap). */
export const SESSION_EVENT_LIMIT = 5000;

/**
 * The resumability store of one MCP session: every message the server sends on an SSE stream is kept under
 * an id `<streamId>.<n>` (n counts up per session), so a client that lost its stream sends the last id it
 * saw as Last-Event-ID and gets what followed on that stream. Bounded, in memory, dropped with the session.
 */
export class SessionEventStore implements EventStore {
  private readonly order: Entry[] = [];
  private readonly streams = new Map<StreamId, Entry[]>();
  private counter = 0;

  constructor(private readonly limit = SESSION_EVENT_LIMIT) {}

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    this.counter += 1;
    const entry: Entry = { n: this.counter, id: `${streamId}.${this.counter}`, streamId, message };
    this.order.push(entry);
    const list = this.streams.get(streamId) ?? [];
    list.push(entry);
    this.streams.set(streamId, list);
    while (this.order.length > this.limit) {
      const old = this.order.shift() as Entry;
      const of = this.streams.get(old.streamId);
      of?.shift();
      if (of?.length === 0) this.streams.delete(old.streamId);
    }
    return entry.id;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    const parsed = parse(eventId);
    return parsed && this.streams.has(parsed.streamId) ? parsed.streamId : undefined;
  }

  async replayEventsAfter(
    lastEventId: EventId,
    { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> },
  ): Promise<StreamId> {
    const parsed = parse(lastEventId);
    if (!parsed) return '';
    // Copy: sending may store new events on the same stream meanwhile; those go out live.
    for (const e of [...(this.streams.get(parsed.streamId) ?? [])]) {
      // The priming event of a stream is an empty object, not a message: nothing to resend.
      if (e.n > parsed.n && 'jsonrpc' in e.message) await send(e.id, e.message);
    }
    return parsed.streamId;
  }

  get size(): number {
    return this.order.length;
  }
}

function parse(eventId: EventId): { streamId: StreamId; n: number } | undefined {
  const dot = eventId.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const n = Number(eventId.slice(dot + 1));
  return Number.isSafeInteger(n) ? { streamId: eventId.slice(0, dot), n } : undefined;
}
