import type { ClientError, Connection } from '../net/connection.js';
import type { Task, TaskEvent } from '../protocol.js';

export interface FollowHandlers {
  /** The task as the hub acked the (re)subscription. */
  onTask(task: Task): void;
  /** Each event exactly once, in seq order. */
  onEvent(event: TaskEvent): void;
  onError(error: ClientError): void;
}

/**
 * Follows one task's room: replay then live, and after any reconnect it subscribes again from the last seq it
 * holds, so the stream has no gap and no duplicate. Events at or below that seq (a replay overlapping what we
 * have) are dropped; an event past a gap triggers one re-subscription from the last seq held.
 */
export class TaskFollower {
  lastSeq = 0;
  private active = true;
  private resyncing = false;
  private readonly offConnect: () => void;

  constructor(
    private readonly conn: Connection,
    readonly taskId: string,
    private readonly handlers: FollowHandlers,
  ) {
    // The listener goes on before the subscription: the replay follows the ack at once.
    conn.socket.on('task:event', this.onEvent);
    this.offConnect = conn.connected.on(() => void this.subscribe());
    if (conn.socket.connected) void this.subscribe();
  }

  stop(): void {
    if (!this.active) return;
    this.active = false;
    this.conn.socket.off('task:event', this.onEvent);
    this.offConnect();
    if (this.conn.socket.connected) void this.conn.request('task:unsubscribe', { taskId: this.taskId });
  }

  private async subscribe(): Promise<void> {
    this.resyncing = true;
    const res = await this.conn.request('task:subscribe', { taskId: this.taskId, afterSeq: this.lastSeq });
    this.resyncing = false;
    if (!this.active) return;
    if (res.ok) this.handlers.onTask(res.data);
    else if (res.error.code !== 'hub_unreachable') this.handlers.onError(res.error);
  }

  private readonly onEvent = (event: TaskEvent): void => {
    if (!this.active || event.taskId !== this.taskId || event.seq <= this.lastSeq) return;
    if (event.seq !== this.lastSeq + 1) {
      if (!this.resyncing) void this.subscribe();
      return;
    }
    this.lastSeq = event.seq;
    this.handlers.onEvent(event);
  };
}
