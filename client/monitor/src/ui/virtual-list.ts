import { frameScheduler, h } from './dom.js';

/** One reusable row: built once, then given item after item as the list scrolls. */
export interface RowView<T> {
  el: HTMLElement;
  update(item: T, index: number): void;
}

export interface VirtualListOptions<T> {
  rowHeight: number;
  createRow(): RowView<T>;
  label: string;
  /** Rows drawn beyond the visible ones on each side, so fast scrolling shows no blank band. */
  overscan?: number;
  empty?: string;
}

/**
 * A list that renders only the rows in view: a spacer as tall as every row, and a small pool of absolutely
 * placed rows that are moved and refilled on scroll. Thousands of items cost a few dozen elements.
 */
export class VirtualList<T> {
  readonly element: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly emptyNote: HTMLElement;
  private readonly pool: RowView<T>[] = [];
  private items: readonly T[] = [];
  private readonly schedule: () => void;

  constructor(private readonly opts: VirtualListOptions<T>) {
    this.spacer = h('div', { class: 'vlist-spacer', role: 'list', 'aria-label': opts.label });
    this.emptyNote = h('p', { class: 'vlist-empty', hidden: true }, opts.empty ?? 'Nothing here.');
    this.element = h('div', { class: 'vlist', tabindex: 0 }, this.spacer, this.emptyNote);
    this.schedule = frameScheduler(() => this.draw());
    this.element.addEventListener('scroll', this.schedule, { passive: true });
    new ResizeObserver(this.schedule).observe(this.element);
  }

  setItems(items: readonly T[]): void {
    this.items = items;
    this.spacer.style.height = `${items.length * this.opts.rowHeight}px`;
    this.emptyNote.hidden = items.length > 0;
    this.schedule();
  }

  /** Redraws the visible rows (their items changed in place, or time moved on). */
  refresh(): void {
    this.schedule();
  }

  private draw(): void {
    const { rowHeight, overscan = 6 } = this.opts;
    const top = this.element.scrollTop;
    const height = this.element.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / rowHeight) - overscan);
    const last = Math.min(this.items.length, Math.ceil((top + height) / rowHeight) + overscan);
    const count = Math.max(0, last - first);
    while (this.pool.length < count) {
      const row = this.opts.createRow();
      row.el.style.height = `${rowHeight}px`;
      row.el.setAttribute('role', 'listitem');
      this.pool.push(row);
      this.spacer.appendChild(row.el);
    }
    for (let i = 0; i < this.pool.length; i++) {
      const row = this.pool[i] as RowView<T>;
      const index = first + i;
      const item = this.items[index];
      if (i >= count || item === undefined) {
        row.el.hidden = true;
        continue;
      }
      row.el.hidden = false;
      row.el.style.transform = `translateY(${index * rowHeight}px)`;
      row.el.setAttribute('aria-posinset', String(index + 1));
      row.el.setAttribute('aria-setsize', String(this.items.length));
      row.update(item, index);
    }
  }
}
