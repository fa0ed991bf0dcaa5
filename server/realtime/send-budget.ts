import type { Socket } from 'socket.io';

/** How much one consumer may have queued, in packets and in bytes, before it is dropped. */
export interface SendLimits {
  packets: number;
  bytes: number;
}

/** The engine.io internals the budget reads (not public API, hence this narrow view). */
interface EngineConn {
  writeBuffer: Array<{ data?: unknown }>;
  transport: { writable: boolean; socket?: { bufferedAmount?: number } };
  on(event: 'packetCreate', fn: (p: { data?: unknown }) => void): void;
  on(event: 'flush', fn: () => void): void;
}

const sizeOf = (data: unknown) =>
  typeof data === 'string' ? data.length : Buffer.isBuffer(data) ? data.length : 0;

/** Polling interval while a paged replay waits for a slow reader to catch up. */
const DRAIN_POLL_MS = 10;

/**
 * A Socket.IO consumer's send queue, bounded in packets and in bytes: what waits in engine.io's write buffer
 * plus what the WebSocket has not yet handed to the kernel. Checked as each packet is queued, so a reader
 * that stops never costs more than the budget (1 MB chunks pass a packet limit long after memory is gone).
 */
export class SocketSendBudget {
  private readonly conn: EngineConn;
  private buffered = 0;
  private over = false;

  constructor(
    socket: Socket,
    private readonly limits: SendLimits,
    onOver: (why: string) => void,
  ) {
    this.conn = socket.conn as unknown as EngineConn;
    this.conn.on('flush', () => {
      this.buffered = 0;
    });
    this.conn.on('packetCreate', (p) => {
      if (this.over) return;
      this.buffered += sizeOf(p.data);
      const why =
        this.conn.writeBuffer.length >= limits.packets
          ? `send queue over ${limits.packets} packets`
          : this.queuedBytes() > limits.bytes
            ? `send queue over ${limits.bytes} bytes`
            : null;
      if (!why) return;
      this.over = true;
      // Not from inside engine.io's send path: drop it once the current broadcast has returned.
      queueMicrotask(() => {
        // Free what it has not read now (engine.io would hold it until drained); the last thing it reads is why.
        this.conn.writeBuffer.length = 0;
        this.buffered = 0;
        onOver(why);
      });
    });
  }

  queuedBytes(): number {
    return this.buffered + (this.conn.transport.socket?.bufferedAmount ?? 0);
  }

  /** Runs `fn` once the queue is below half the byte budget (at once on the next turn if it already is). */
  whenDrained(fn: () => void): void {
    const check = () => {
      if (this.over) return;
      if (
        this.queuedBytes() <= this.limits.bytes / 2 &&
        this.conn.writeBuffer.length < this.limits.packets / 2
      )
        setImmediate(fn);
      else setTimeout(check, DRAIN_POLL_MS);
    };
    check();
  }
}
