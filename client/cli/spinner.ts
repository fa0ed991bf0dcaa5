import type { Sink } from './output.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * A one-line spinner on a terminal while a task waits (queued, dispatched). Only on a TTY: pipes and files
 * never see control codes. `clear` wipes the line before anything else is written.
 */
export class Spinner {
  #timer: NodeJS.Timeout | null = null;
  #frame = 0;
  #text = '';
  #since = 0;

  constructor(
    private readonly sink: Sink,
    private readonly intervalMs = 80,
  ) {}

  get active(): boolean {
    return this.#timer !== null;
  }

  start(text: string): void {
    if (!this.sink.isTTY) return;
    this.#text = text;
    if (this.#timer) return;
    this.#since = Date.now();
    this.#draw();
    this.#timer = setInterval(() => this.#draw(), this.intervalMs);
    this.#timer.unref();
  }

  clear(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = null;
    this.sink.write('\r\x1b[2K');
  }

  #draw(): void {
    const frame = FRAMES[this.#frame++ % FRAMES.length];
    const secs = ((Date.now() - this.#since) / 1000).toFixed(1);
    this.sink.write(`\r\x1b[2K${frame} ${this.#text} ${secs}s`);
  }
}
