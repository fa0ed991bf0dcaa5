import { h } from '../ui/dom.js';
import { GrowingText } from './growing-text.js';

/**
 * Blocks that grow by appending text. Text is buffered and written once per frame (`commit`), so a burst of
 * thousands of small chunks costs one DOM write.
 */
export interface TextBlock {
  readonly el: HTMLElement;
  commit(): void;
}

/** stdout and stderr as a console; stderr runs are marked (colour, title, data-stream). */
export class ConsoleBlock implements TextBlock {
  readonly el = h('div', {
    class: 'console',
    'data-testid': 'console',
    role: 'group',
    'aria-label': 'Output',
  });
  private readonly text = new GrowingText(this.el, (stream, node) =>
    h('span', { class: `stream-${stream}`, 'data-stream': stream, title: stream }, node),
  );
  private stream = '';
  private pending = '';

  add(stream: 'stdout' | 'stderr', text: string): void {
    if (stream !== this.stream) this.commit();
    this.stream = stream;
    this.pending += text;
  }

  commit(): void {
    if (this.pending) this.text.write(this.pending, this.stream);
    this.pending = '';
  }
}

/** LLM tokens (or tool thinking) as flowing text, captioned with the graph node that produced them. */
export class FlowBlock implements TextBlock {
  readonly el: HTMLElement;
  private readonly text: GrowingText;
  private pending = '';

  constructor(
    readonly kind: 'tokens' | 'thinking',
    readonly source: string | undefined,
  ) {
    const body = h('div', { class: 'flow-text' });
    this.text = new GrowingText(body);
    this.el = h(
      'div',
      { class: `flow flow-${kind}`, 'data-testid': kind },
      kind === 'thinking' || source
        ? h(
            'div',
            { class: 'flow-caption' },
            kind === 'thinking' ? 'thinking' : '',
            source ? ` ${source}` : '',
          )
        : null,
      body,
    );
  }

  add(text: string): void {
    this.pending += text;
  }

  commit(): void {
    if (this.pending) this.text.write(this.pending);
    this.pending = '';
  }
}
