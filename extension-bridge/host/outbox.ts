/**
 * Messages for the hub: sent at once while the host is registered, queued in order while it is not (the
 * hub must see `register` again before any job event of the new connection), up to a size limit.
 *
 * Socket.IO's own send buffer is not used for this because it flushes before the `connect` handler can
 * re-register.
 */
export class Outbox<T> {
  private readonly queue: Array<{ send: (target: T) => void; size: number }> = [];
  private queuedSize = 0;
  private target: T | undefined;

  constructor(private readonly maxQueuedSize: number) {}

  get isOpen(): boolean {
    return this.target !== undefined;
  }

  /**
   * Sends now or queues. Returns false when the message was dropped because the queue is full; messages of
   * size 0 are never dropped.
   */
  post(send: (target: T) => void, size = 0): boolean {
    if (this.target !== undefined) {
      send(this.target);
      return true;
    }
    if (size > 0 && this.queuedSize + size > this.maxQueuedSize) return false;
    this.queue.push({ send, size });
    this.queuedSize += size;
    return true;
  }

  /** From now on messages go to `target`; the queue is sent first, in order. */
  open(target: T): void {
    this.target = target;
    const queued = this.queue.splice(0);
    this.queuedSize = 0;
    for (const { send } of queued) send(target);
  }

  /** Queue until the next `open`. */
  close(): void {
    this.target = undefined;
  }

  clear(): void {
    this.queue.length = 0;
    this.queuedSize = 0;
  }
}
