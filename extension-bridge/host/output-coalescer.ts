import type { OutputStream } from './python-runner.js';

export interface CoalescerOptions {
  /** Longest a chunk waits before it is sent. */
  delayMs: number;
  /** Largest text sent in one piece; more is split (never inside a surrogate pair). */
  maxChunkChars: number;
}

export const DEFAULT_COALESCER: CoalescerOptions = { delayMs: 50, maxChunkChars: 64 * 1024 };

/**
 * Gathers a job's output so that a chatty job sends a few `job:output` events per tick instead of one per
 * write. Order is kept across both streams; nothing is dropped.
 */
export class OutputCoalescer {
  private readonly pending: Array<{ stream: OutputStream; text: string }> = [];
  private pendingChars = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (stream: OutputStream, text: string) => void,
    private readonly options: CoalescerOptions = DEFAULT_COALESCER,
  ) {}

  push(stream: OutputStream, text: string): void {
    if (!text) return;
    const last = this.pending.at(-1);
    if (last?.stream === stream) last.text += text;
    else this.pending.push({ stream, text });
    this.pendingChars += text.length;
    if (this.pendingChars >= this.options.maxChunkChars) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.delayMs);
  }

  /** Takes what is pending instead of sending it (to fold it into the job's result), in order. */
  take(): Array<{ stream: OutputStream; text: string }> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pendingChars = 0;
    return this.pending.splice(0);
  }

  /** Sends everything pending now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pieces = this.pending.splice(0);
    this.pendingChars = 0;
    for (const { stream, text } of pieces) {
      for (const chunk of splitText(text, this.options.maxChunkChars)) this.send(stream, chunk);
    }
  }
}

export function splitText(text: string, max: number): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (text.length - start > max) {
    let end = start + max;
    const code = text.charCodeAt(end - 1);
    // Do not end a chunk on the first half of a surrogate pair.
    if (code >= 0xd800 && code <= 0xdbff && max > 1) end -= 1;
    chunks.push(text.slice(start, end));
    start = end;
  }
  chunks.push(text.slice(start));
  return chunks;
}
