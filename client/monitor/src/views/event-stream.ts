import type { FlowNodeInfo } from '../../../sdk/flow-progress.js';
import { isTerminal, type TaskEvent, type TaskSummary } from '../protocol.js';
import { frameScheduler, h, text } from '../ui/dom.js';
import { doneRow, errorRow, logRow, statusRow, ToolCallRow } from './event-rows.js';
import { FlowPanel } from './flow-panel.js';
import { ProgressPanel } from './progress-panel.js';
import { ConsoleBlock, FlowBlock, type TextBlock } from './text-blocks.js';

/** Time a frame may spend on events before yielding, so input and paint keep going under any load. */
const FRAME_BUDGET_MS = 10;

/**
 * One task's events, rendered by type. Events are queued as they arrive and drawn once per animation
 * frame within a time budget; runs of output or tokens append to one block, so a 50,000-token stream is a
 * few DOM writes per frame. Scrolls along while the reader is at the bottom ("follow").
 */
export class EventStream {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private readonly progress = new ProgressPanel();
  /** Set for flowgram tasks: their nodes go to this list instead of the generic step chips. */
  private flowPanel: FlowPanel | null = null;
  private readonly counter: HTMLElement;
  private readonly followButton: HTMLButtonElement;
  private queue: TaskEvent[] = [];
  private head = 0;
  private count = 0;
  private current: TextBlock | null = null;
  private readonly tools = new Map<string, ToolCallRow>();
  /** Child task per tool call id, from the children's summaries. */
  private readonly childByCall = new Map<string, string>();
  private follow = true;
  private readonly schedule = frameScheduler(() => this.flush());

  constructor() {
    this.body = h('div', {
      class: 'stream-body',
      role: 'log',
      'aria-label': 'Task events',
      'data-testid': 'event-stream',
    });
    this.counter = h('span', { class: 'muted', 'data-testid': 'event-count' }, '0 events');
    this.followButton = h(
      'button',
      {
        type: 'button',
        class: 'ghost small',
        'aria-pressed': 'true',
        onclick: () => this.setFollow(!this.follow),
      },
      'Following live',
    );
    this.element = h(
      'section',
      { class: 'stream', 'aria-label': 'Event stream' },
      h('div', { class: 'stream-head' }, h('h3', null, 'Events'), this.counter, this.followButton),
      this.progress.element,
      this.body,
    );
    this.body.addEventListener(
      'scroll',
      () => {
        const atBottom = this.body.scrollHeight - this.body.scrollTop - this.body.clientHeight < 48;
        if (atBottom !== this.follow) this.setFollow(atBottom);
      },
      { passive: true },
    );
  }

  /**
   * Links tool calls to the child tasks they run as, before their results name them: a child names the call
   * it runs for (`parentCallId`), and a call whose row is not drawn yet is linked when it is.
   */
  linkChildren(children: readonly TaskSummary[]): void {
    for (const c of children) {
      if (!c.parentCallId) continue;
      this.childByCall.set(c.parentCallId, c.id);
      this.tools.get(c.parentCallId)?.linkChild(c.id);
    }
  }

  /** Shows the task's nodes as a FlowGram progress list (every schema node, waiting until it runs). */
  useFlow(nodes: readonly FlowNodeInfo[]): void {
    if (this.flowPanel) return;
    this.flowPanel = new FlowPanel(nodes);
    this.progress.element.before(this.flowPanel.element);
  }

  push(event: TaskEvent): void {
    this.queue.push(event);
    this.schedule();
  }

  private flush(): void {
    const started = performance.now();
    while (this.head < this.queue.length) {
      this.render(this.queue[this.head++] as TaskEvent);
      this.count += 1;
      if ((this.head & 127) === 0 && performance.now() - started > FRAME_BUDGET_MS) break;
    }
    this.current?.commit();
    this.flowPanel?.commit();
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else {
      this.schedule();
    }
    text(this.counter, `${this.count} events`);
    if (this.follow) this.body.scrollTop = this.body.scrollHeight;
  }

  private render(e: TaskEvent): void {
    switch (e.type) {
      case 'output':
        this.block(ConsoleBlock, (b) => b instanceof ConsoleBlock).add(e.data.stream, e.data.text);
        break;
      case 'token':
        this.flow('tokens', e.data.node).add(e.data.text);
        break;
      case 'tool_thinking':
        this.flow('thinking', undefined).add(e.data.text);
        break;
      case 'tool_start':
      case 'tool_result': {
        const known = this.tools.get(e.data.callId);
        if (known && e.type === 'tool_result') {
          known.result(e);
          break;
        }
        // A result without its start (joined late, or a host that skips it) still gets its own row.
        const row = new ToolCallRow(e);
        this.tools.set(e.data.callId, row);
        const child = this.childByCall.get(e.data.callId);
        if (child) row.linkChild(child);
        this.row(row.el);
        break;
      }
      case 'node_start':
        if (this.flowPanel) this.flowPanel.apply(e);
        else this.progress.nodeStart(e);
        break;
      case 'node_end':
        if (this.flowPanel) this.flowPanel.apply(e);
        else this.progress.nodeEnd(e);
        break;
      case 'progress':
        this.progress.progress(e);
        break;
      case 'status':
        if (isTerminal(e.data.status)) {
          this.progress.end();
          this.flowPanel?.commit();
          this.flowPanel?.end();
        }
        this.row(statusRow(e));
        break;
      case 'log':
        this.row(logRow(e));
        break;
      case 'error':
        this.row(errorRow(e));
        break;
      case 'done':
        this.row(doneRow(e));
        break;
    }
  }

  /** The open text block if it is of the wanted kind, else a new one (closing the open one). */
  private block<B extends TextBlock>(make: new () => B, is: (b: TextBlock) => boolean): B {
    if (this.current && is(this.current)) return this.current as B;
    const block = new make();
    this.row(block.el);
    this.current = block;
    return block;
  }

  private flow(kind: 'tokens' | 'thinking', source: string | undefined): FlowBlock {
    const open = this.current;
    if (open instanceof FlowBlock && open.kind === kind && open.source === source) return open;
    const block = new FlowBlock(kind, source);
    this.row(block.el);
    this.current = block;
    return block;
  }

  private row(el: HTMLElement): void {
    this.current?.commit();
    this.current = null;
    this.body.appendChild(el);
  }

  private setFollow(on: boolean): void {
    this.follow = on;
    this.followButton.setAttribute('aria-pressed', String(on));
    text(this.followButton, on ? 'Following live' : 'Jump to latest');
    if (on) this.body.scrollTop = this.body.scrollHeight;
  }
}
