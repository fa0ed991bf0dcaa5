import { h } from '../ui/dom.js';

/**
 * Blocks that grow by appending text. Text is buffered and written once per frame (`commit`), so a burst of
 * thousands of small chunks costs one DOM write, and a run of same-stream chunks shares one text node.
 */
export interface TextBlock {
  readonly el: HTMLElement;
  commit(): void;
}

/** stdout and stderr as a console; stderr runs are marked (colour, title, data-stream). */
export class ConsoleBlock implements TextBlock {
  readonly el = h('pre', { class: 'console', 'data-testid': 'console', 'aria-label': 'Output' });
  private node: Text | null = null;
  private stream = '';
  private pending = '';

  add(stream: 'stdout' | 'stderr', text: string): void {
    if (stream !== this.stream) {
      this.commit();
      this.node = document.createTextNode('');
      const span = h('span', { class: `stream-${stream}`, 'data-stream': stream, title: stream }, this.node);
      this.el.appendChild(span);
      this.stream = stream;
    }
    this.pending += text;
  }

  commit(): void {
    if (this.pending && this.node) this.node.appendData(this.pending);
    this.pending = '';
  }
}

/** LLM tokens (or tool thinking) as flowing text, captioned with the graph node that produced them. */
export class FlowBlock implements TextBlock {
  readonly el: HTMLElement;
  private readonly node = document.createTextNode('');
  private pending = '';

  constructor(
    readonly kind: 'tokens' | 'thinking',
    readonly source: string | undefined,
  ) {
    this.el = h(
      'div',
      { class: `flow flow-${kind}`, 'data-testid': kind },
      kind === 'thinking' || source
        ? h('div', { class: 'flow-caption' }, kind === 'thinking' ? 'thinking' : '', source ? ` ${source}` : '')
        : null,
      h('div', { class: 'flow-text' }, this.node),
    );
  }

  add(text: string): void {
    this.pending += text;
  }

  commit(): void {
    if (this.pending) this.node.appendData(this.pending);
    this.pending = '';
  }
}
