import type { ExtensionStore } from '../state/extension-store.js';
import type { TaskStore } from '../state/task-store.js';
import { frameScheduler, h, text } from './dom.js';
import { ago, STATUS_LABEL, targetText, taskDuration } from './format.js';
import { matches, TaskFilters } from './task-filters.js';
import { nestTasks, type TreeRow } from './task-tree.js';
import { type RowView, VirtualList } from './virtual-list.js';

const ROW_HEIGHT = 52;

/** The live task list: filters and counts on top, a virtualised list below; rows link to the task view. */
export class TaskListPanel {
  readonly element: HTMLElement;
  private readonly filters: TaskFilters;
  private readonly list: VirtualList<TreeRow>;
  /** Parents whose children are folded away. */
  private readonly collapsed = new Set<string>();
  private readonly shown: HTMLElement;
  private selectedId = '';
  private drawnVersion = -1;
  private readonly schedule: () => void;

  private readonly clock: ReturnType<typeof setInterval>;

  constructor(
    private readonly tasks: TaskStore,
    private readonly extensions: ExtensionStore,
  ) {
    this.schedule = frameScheduler(() => this.draw());
    this.filters = new TaskFilters(() => {
      this.drawnVersion = -1;
      this.schedule();
    });
    this.list = new VirtualList<TreeRow>({
      rowHeight: ROW_HEIGHT,
      label: 'Tasks',
      empty: 'No tasks match.',
      createRow: () => this.createRow(),
    });
    this.shown = h('span', { class: 'muted', 'data-testid': 'tasks-shown', 'aria-live': 'polite' });
    this.element = h(
      'section',
      { class: 'panel tasks-panel', 'aria-labelledby': 'tasks-title', 'data-testid': 'task-list' },
      h('header', { class: 'panel-head' }, h('h2', { id: 'tasks-title' }, 'Tasks'), this.shown),
      this.filters.element,
      this.list.element,
    );
    tasks.changed.on(this.schedule);
    extensions.changed.on(() => {
      this.drawnVersion = -1;
      this.schedule();
    });
    // Durations of running tasks and "n s ago" move with the clock.
    this.clock = setInterval(() => this.list.refresh(), 1_000);
  }

  dispose(): void {
    clearInterval(this.clock);
  }

  select(id: string): void {
    this.selectedId = id;
    this.list.refresh();
  }

  private draw(): void {
    if (this.drawnVersion === this.tasks.version) {
      this.list.refresh();
      return;
    }
    this.drawnVersion = this.tasks.version;
    const all = this.tasks.all();
    const visible = all.filter((t) => matches(t, this.filters.value));
    this.list.setItems(nestTasks(visible, this.collapsed));
    this.filters.setCounts(this.tasks.counts(), all.length);
    const ids = new Set(this.extensions.all().map((v) => v.info.id));
    for (const t of all) if (t.extensionId) ids.add(t.extensionId);
    this.filters.setExtensions([...ids]);
    text(this.shown, visible.length === all.length ? `${all.length}` : `${visible.length} of ${all.length}`);
  }

  private toggle(id: string): void {
    if (!this.collapsed.delete(id)) this.collapsed.add(id);
    this.drawnVersion = -1;
    this.draw();
  }

  private createRow(): RowView<TreeRow> {
    const dot = h('span', { class: 'status-dot', 'aria-hidden': 'true' });
    const id = h('span', { class: 'task-id mono' });
    const status = h('span', { class: 'badge' });
    const meta = h('span', { class: 'task-meta' });
    const duration = h('span', { class: 'task-duration mono' });
    const link = h(
      'a',
      { class: 'task-link' },
      h('span', { class: 'task-line' }, dot, id, status),
      h('span', { class: 'task-line' }, meta, duration),
    );
    const waiting = h('span', { class: 'task-waiting', 'data-testid': 'task-waiting', hidden: true });
    link.lastElementChild?.insertBefore(waiting, duration);
    let rowId = '';
    const toggle = h(
      'button',
      {
        type: 'button',
        class: 'task-toggle ghost small',
        'data-testid': 'task-toggle',
        onclick: () => this.toggle(rowId),
      },
      '',
    );
    const el = h('div', { class: 'task-row', 'data-testid': 'task-row' }, toggle, link);
    return {
      el,
      update: (row) => {
        const t = row.task;
        rowId = t.id;
        el.dataset['depth'] = String(row.depth);
        el.style.setProperty('--depth', String(row.depth));
        if (t.parentId) el.dataset['parentId'] = t.parentId;
        else delete el.dataset['parentId'];
        toggle.hidden = row.children === 0;
        toggle.setAttribute('aria-expanded', String(!row.collapsed));
        toggle.setAttribute('aria-label', `${row.collapsed ? 'Show' : 'Hide'} ${row.children} child tasks`);
        text(toggle, row.collapsed ? '▸' : '▾');
        toggle.title = `${row.children} child task${row.children === 1 ? '' : 's'}`;
        const why = t.status === 'queued' ? this.tasks.waitingOf(t.id) : undefined;
        waiting.hidden = !why;
        text(waiting, why ? `waiting: ${why.message}` : '');
        waiting.title = why?.message ?? '';
        el.dataset['taskId'] = t.id;
        el.dataset['status'] = t.status;
        link.href = `#/tasks/${encodeURIComponent(t.id)}`;
        if (this.selectedId === t.id) link.setAttribute('aria-current', 'page');
        else link.removeAttribute('aria-current');
        dot.className = `status-dot status-${t.status}`;
        text(id, t.id);
        status.className = `badge status-${t.status}`;
        text(status, STATUS_LABEL[t.status]);
        text(
          meta,
          [t.kind, t.extensionId ?? targetText(t), ago(t.createdAt)].filter((s) => s !== '—').join(' · '),
        );
        text(duration, taskDuration(t));
      },
    };
  }
}
