import type { EventDataOf, EventType } from '../protocol/tasks.js';
import type { TaskService } from '../tasks/service.js';
import type { Scrubber } from './scrub.js';
import { TokenCoalescer } from './token-coalescer.js';

type Publishable = Exclude<EventType, 'status' | 'done' | 'error'>;

/**
 * The one way a running workflow publishes: tokens coalesced per tick, everything scrubbed of the run's
 * secrets, pending tokens flushed before any other event, and silence once the run has been stopped (a
 * cancelled run's late tool output must not reach a finished task).
 */
export class RunEvents {
  private readonly tokens: TokenCoalescer;
  private closed = false;

  constructor(
    private readonly tasks: TaskService,
    private readonly taskId: string,
    private readonly scrubber: Scrubber,
    coalesceMs: number,
  ) {
    this.tokens = new TokenCoalescer(coalesceMs, (text, node) =>
      this.append('token', node ? { text, node } : { text }),
    );
  }

  token(text: string, node?: string): void {
    if (!this.closed) this.tokens.push(this.scrubber.text(text), node);
  }

  emit<T extends Publishable>(type: T, data: EventDataOf<T>): void {
    if (this.closed) return;
    this.tokens.flush();
    this.append(type, this.scrubber.scrub(data));
  }

  /** Delivers pending tokens now (before the run's terminal events). */
  flush(): void {
    if (!this.closed) this.tokens.flush();
  }

  /** Stops publishing; pending tokens are flushed first unless `discard`. */
  close(opts: { discard?: boolean } = {}): void {
    if (this.closed) return;
    if (opts.discard) this.tokens.discard();
    else this.tokens.flush();
    this.closed = true;
  }

  private append<T extends Exclude<EventType, 'status'>>(type: T, data: EventDataOf<T>): void {
    if (this.closed) return;
    this.tasks.append(this.taskId, type, data);
  }
}
