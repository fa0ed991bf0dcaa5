import { TASK_KINDS, TASK_STATUSES, type TaskKind, type TaskStatus, type TaskSummary } from '../protocol.js';
import type { StatusCounts } from '../state/task-store.js';
import { h, replace, text } from './dom.js';
import { STATUS_LABEL, targetText } from './format.js';

export interface TaskFilter {
  status: TaskStatus | '';
  kind: TaskKind | '';
  extensionId: string;
  text: string;
}

export function matches(t: TaskSummary, f: TaskFilter): boolean {
  if (f.status && t.status !== f.status) return false;
  if (f.kind && t.kind !== f.kind) return false;
  if (f.extensionId && t.extensionId !== f.extensionId && t.target.extensionId !== f.extensionId)
    return false;
  if (!f.text) return true;
  const hay = `${t.id} ${t.kind} ${t.status} ${t.extensionId ?? ''} ${targetText(t)} ${t.parentId ?? ''}`;
  return hay.toLowerCase().includes(f.text.toLowerCase());
}

/** The filter bar: counts per status (they double as the status filter), kind, extension, free text. */
export class TaskFilters {
  readonly element: HTMLElement;
  readonly value: TaskFilter = { status: '', kind: '', extensionId: '', text: '' };
  private readonly chips = new Map<TaskStatus | '', HTMLButtonElement>();
  private readonly extensionSelect: HTMLSelectElement;
  private extensionOptions: string | null = null;

  constructor(private readonly onChange: () => void) {
    const chipRow = h('div', { class: 'chips', role: 'group', 'aria-label': 'Tasks per status' });
    for (const status of ['', ...TASK_STATUSES] as const) {
      const chip = h(
        'button',
        {
          type: 'button',
          class: `chip ${status ? `status-${status}` : ''}`,
          'data-testid': `status-chip-${status || 'all'}`,
          'aria-pressed': status === '',
          onclick: () => this.set({ status: this.value.status === status ? '' : status }),
        },
        h('span', { class: 'chip-label' }, status ? STATUS_LABEL[status] : 'All'),
        h('span', { class: 'chip-count' }, '0'),
      );
      this.chips.set(status, chip);
      chipRow.appendChild(chip);
    }
    const kind = h(
      'select',
      {
        'aria-label': 'Kind',
        'data-testid': 'filter-kind',
        onchange: (e) => this.set({ kind: value(e) as TaskKind }),
      },
      h('option', { value: '' }, 'All kinds'),
      TASK_KINDS.map((k) => h('option', { value: k }, k)),
    );
    this.extensionSelect = h('select', {
      'aria-label': 'Extension',
      'data-testid': 'filter-extension',
      onchange: (e) => this.set({ extensionId: value(e) }),
    });
    const search = h('input', {
      type: 'search',
      placeholder: 'Search id, extension, label…',
      'aria-label': 'Search tasks',
      'data-testid': 'filter-text',
      oninput: (e) => this.set({ text: value(e).trim() }),
    });
    this.element = h(
      'div',
      { class: 'filters' },
      chipRow,
      h('div', { class: 'filter-row' }, search, kind, this.extensionSelect),
    );
    this.setExtensions([]);
  }

  setCounts(counts: StatusCounts, total: number): void {
    for (const [status, chip] of this.chips) {
      const n = status ? counts[status] : total;
      text(chip.lastElementChild as HTMLElement, String(n));
      chip.classList.toggle('zero', n === 0);
    }
  }

  /** Extension ids to offer (known hosts, online or not, and ids tasks ran on). */
  setExtensions(ids: readonly string[]): void {
    const all = [...new Set([...ids, ...(this.value.extensionId ? [this.value.extensionId] : [])])].sort();
    const key = all.join('\n');
    if (key === this.extensionOptions) return;
    this.extensionOptions = key;
    replace(
      this.extensionSelect,
      h('option', { value: '' }, 'All extensions'),
      all.map((id) => h('option', { value: id }, id)),
    );
    this.extensionSelect.value = this.value.extensionId;
  }

  private set(patch: Partial<TaskFilter>): void {
    Object.assign(this.value, patch);
    for (const [status, chip] of this.chips)
      chip.setAttribute('aria-pressed', String(status === this.value.status));
    this.onChange();
  }
}

function value(e: Event): string {
  return (e.target as HTMLInputElement | HTMLSelectElement).value;
}
