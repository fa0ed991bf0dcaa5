import { h, replace } from './dom.js';

/** One line the hub's safety policy names: 1-based line and column, the rule, and why, in words. */
export interface LineMark {
  line: number;
  column: number;
  rule: string;
  message: string;
}

/**
 * A plain code editor (a textarea that never wraps, with line numbers) that can mark the lines the hub's
 * policy refused: the line is banded and numbered in red, and the reason is written under the editor.
 * Any edit clears the marks: they describe code that is no longer there.
 */
export class CodeEditor {
  readonly element: HTMLElement;
  readonly textarea: HTMLTextAreaElement;
  private readonly gutter: HTMLElement;
  private readonly bands: HTMLElement;
  private readonly notes: HTMLElement;
  private marks: LineMark[] = [];
  private gutterKey = '';

  constructor(attrs: { id: string; placeholder: string; rows: number; testId: string; onRun: () => void }) {
    this.textarea = h('textarea', {
      id: attrs.id,
      class: 'code-input',
      wrap: 'off',
      rows: attrs.rows,
      spellcheck: 'false',
      placeholder: attrs.placeholder,
      'data-testid': attrs.testId,
      onkeydown: (e) => {
        const k = e as KeyboardEvent;
        if (k.key === 'Enter' && (k.ctrlKey || k.metaKey)) attrs.onRun();
      },
      oninput: () => {
        this.clearMarks();
        this.drawGutter();
      },
      onscroll: () => this.follow(),
    });
    this.gutter = h('div', { class: 'editor-gutter', 'aria-hidden': 'true' });
    this.bands = h('div', { class: 'editor-bands', 'aria-hidden': 'true' });
    this.notes = h('ul', { class: 'editor-notes', 'data-testid': 'policy-notes', hidden: true });
    this.element = h(
      'div',
      { class: 'editor' },
      h(
        'div',
        { class: 'editor-frame' },
        this.gutter,
        h('div', { class: 'editor-text' }, this.bands, this.textarea),
      ),
      this.notes,
    );
    this.drawGutter();
  }

  get value(): string {
    return this.textarea.value;
  }

  /** Marks the lines a refusal names; lines past the end of the code are noted but not banded. */
  mark(marks: LineMark[]): void {
    this.marks = marks;
    this.notes.hidden = marks.length === 0;
    replace(
      this.notes,
      marks.map((m) =>
        h(
          'li',
          { class: 'editor-note', role: 'alert', 'data-testid': 'policy-marker', 'data-line': m.line },
          h('strong', null, `Line ${m.line}, column ${m.column}: `),
          m.message,
          h('span', { class: 'muted' }, ` (rule ${m.rule})`),
        ),
      ),
    );
    this.drawGutter();
    this.drawBands();
  }

  clearMarks(): void {
    if (this.marks.length === 0) return;
    this.mark([]);
  }

  private drawGutter(): void {
    const count = Math.max(1, this.textarea.value.split('\n').length);
    const marked = new Set(this.marks.map((m) => m.line));
    const key = `${count}:${[...marked].join(',')}`;
    if (key === this.gutterKey) return;
    this.gutterKey = key;
    replace(
      this.gutter,
      Array.from({ length: count }, (_, i) =>
        h('div', { class: marked.has(i + 1) ? 'bad' : '', 'data-line': i + 1 }, String(i + 1)),
      ),
    );
    this.follow();
  }

  private drawBands(): void {
    const style = getComputedStyle(this.textarea);
    const lineHeight = Number.parseFloat(style.lineHeight) || 18;
    const top = Number.parseFloat(style.paddingTop) || 0;
    replace(
      this.bands,
      this.marks.map((m) => {
        const band = h('div', {
          class: 'editor-band',
          'data-testid': 'policy-band',
          'data-line': m.line,
          title: m.message,
        });
        // Through the CSSOM: the hub's CSP refuses inline style attributes.
        band.style.top = `${top + (m.line - 1) * lineHeight}px`;
        band.style.height = `${lineHeight}px`;
        return band;
      }),
    );
    this.follow();
  }

  /** Keeps line numbers and bands level with the text when it scrolls. */
  private follow(): void {
    const y = this.textarea.scrollTop;
    this.gutter.style.transform = `translateY(${-y}px)`;
    this.bands.style.transform = `translateY(${-y}px)`;
  }
}

/** The lines a `policy_denied` error's details name (the hub sends its violations there). */
export function marksOf(details: unknown): LineMark[] {
  if (!Array.isArray(details)) return [];
  return details.flatMap((d): LineMark[] => {
    if (typeof d !== 'object' || d === null) return [];
    const v = d as Record<string, unknown>;
    if (typeof v['line'] !== 'number' || typeof v['message'] !== 'string') return [];
    return [
      {
        line: v['line'],
        column: typeof v['column'] === 'number' ? v['column'] : 1,
        rule: typeof v['rule'] === 'string' ? v['rule'] : 'policy',
        message: v['message'],
      },
    ];
  });
}
