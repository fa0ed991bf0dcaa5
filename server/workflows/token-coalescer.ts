/**
 * Merges streamed text into one piece per tick (or per `windowMs`), so a fast model costs one event per
 * tick per subscriber rather than one per token. Text is never reordered or lost: `flush` delivers what is
 * pending at once, and callers flush before any other event so tokens stay ahead of what follows them.
 */
export class TokenCoalescer {
  private text = '';
  private node: string | undefined;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly deliver: (text: string, node: string | undefined) => void,
  ) {}

  push(text: string, node?: string): void {
    if (!text) return;
    if (this.text && node !== this.node) this.flush();
    this.text += text;
    this.node = node;
    if (this.timer) return;
    this.timer = this.windowMs > 0 ? setTimeout(this.flush, this.windowMs) : setImmediate(this.flush);
  }

  flush = (): void => {
    this.cancelTimer();
    if (!this.text) return;
    const { text, node } = this;
    this.text = '';
    this.deliver(text, node);
  };

  /** Drops anything pending: the run has ended and nothing more may be published. */
  discard(): void {
    this.cancelTimer();
    this.text = '';
  }

  private cancelTimer(): void {
    if (!this.timer) return;
    if (this.windowMs > 0) clearTimeout(this.timer as NodeJS.Timeout);
    else clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }
}
