import type { Connection } from '../net/connection.js';
import type { HostLogEntry } from '../protocol.js';
import { h, text } from './dom.js';

/** Lines shown per extension; older ones scroll out (the hub keeps more: `switchboard extensions logs`). */
const SHOWN_LINES = 200;

/**
 * One extension's host log (Kit's log, when its bridge forwards it), followed live while it is open. Kept
 * across redraws of the panel, so an open log neither flickers nor subscribes again.
 */
export class ExtensionLogView {
  readonly element: HTMLDetailsElement;
  private readonly pre: HTMLPreElement;
  private readonly status: HTMLElement;
  private last = 0;
  private lines: string[] = [];

  constructor(
    private readonly conn: Connection,
    private readonly extensionId: string,
  ) {
    this.pre = h('pre', { class: 'ext-log mono', 'data-testid': 'extension-log' });
    this.status = h('span', { class: 'muted' });
    this.element = h(
      'details',
      { class: 'ext-log-box' },
      h('summary', { 'data-testid': 'extension-log-toggle' }, 'Log ', this.status),
      this.pre,
    );
    this.element.addEventListener('toggle', () => void (this.element.open ? this.open() : this.close()));
    conn.socket.on('extension:log', (line) => this.add(line));
    conn.socket.on('connect', () => {
      if (this.element.open) void this.open();
    });
  }

  private async open(): Promise<void> {
    const res = await this.conn.request('extension:logs:subscribe', {
      extensionId: this.extensionId,
      afterSeq: this.last,
    });
    if (!res.ok) {
      text(this.status, `(${res.error.message})`);
      return;
    }
    for (const line of res.data.lines) this.add(line);
    if (this.lines.length === 0) text(this.status, '(no lines yet: is forward_log on in its bridge?)');
  }

  private close(): void {
    void this.conn.request('extension:logs:unsubscribe', { extensionId: this.extensionId });
  }

  private add(line: HostLogEntry): void {
    if (line.extensionId !== this.extensionId || line.seq <= this.last) return;
    this.last = line.seq;
    const job = line.taskId ? ` (task ${line.taskId})` : '';
    this.lines.push(
      `${line.ts.slice(11, 23)} ${line.level.toUpperCase()} [${line.source}] ${line.message}${job}`,
    );
    if (this.lines.length > SHOWN_LINES) this.lines.splice(0, this.lines.length - SHOWN_LINES);
    text(this.pre, this.lines.join('\n'));
    text(this.status, `(${this.lines.length} lines)`);
  }
}
