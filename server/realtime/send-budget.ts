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
}

const sizeOf = (data: unknown) =>
  typeof data === 'string' ? data.length : Buffer.isBuffer(data) ? data.length : 0;

/** Polling interval while a paged replay waits for a slow reader to catch up. */
const DRAIN_POLL_MS = 10;

const BUDGET = Symbol('sendBudget');
type BudgetedConn = EngineConn & { [BUDGET]: SocketSendBudget<Socket> };

/** engine.io calls its listeners with the connection as `this`: one function for every connection. */
function onPacketCreate(this: BudgetedConn, p: { data?: unknown }): void {
  this[BUDGET].queued(p);
}

/**
 * A Socket.IO consumer's send queue, bounded in packets and in bytes: what waits in engine.io's write buffer
 * plus what the WebSocket has not yet handed to the kernel. Checked as each packet is queued, so a reader
 * that stops never costs more than the budget (1 MB chunks pass a packet limit long after memory is gone).
 */
export class SocketSendBudget<S extends Socket = Socket> {
  private readonly conn: EngineConn;
  /** Bytes of the packets in engine.io's write buffer (counted from when it was last empty). */
  private buffered = 0;
  private over = false;

  constructor(
    private readonly socket: S,
    private readonly limits: SendLimits,
    private readonly onOver: (socket: S, why: string) => void,
  ) {
    this.conn = socket.conn as unknown as EngineConn;
    (this.conn as BudgetedConn)[BUDGET] = this as never;
    this.conn.on('packetCreate', onPacketCreate as (p: { data?: unknown }) => void);
  }

  /** A packet is being queued for this consumer. */
  queued(p: { data?: unknown }): void {
    if (this.over) return;
    // engine.io announces a packet before queueing it: an empty write buffer means all before it went out
    // (no listener on every flush needed to know it).
    const waiting = this.conn.writeBuffer.length;
    this.buffered = (waiting === 0 ? 0 : this.buffered) + sizeOf(p.data);
    const { limits } = this;
    const why =
      waiting >= limits.packets
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
      this.onOver(this.socket, why);
    });
  }

  queuedBytes(): number {
    const waiting = this.conn.writeBuffer.length === 0 ? 0 : this.buffered;
    return waiting + (this.conn.transport.socket?.bufferedAmount ?? 0);
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
