import type { ClientError, Connection } from '../net/connection.js';
import { isTerminal, type Task, type TaskEvent, type TaskSummary } from '../protocol.js';
import type { TaskStore } from '../state/task-store.js';
import { h, replace, text } from '../ui/dom.js';
import { errorText } from '../ui/error-text.js';
import { clockTime, formatDuration, pretty, STATUS_LABEL, targetText, taskDuration } from '../ui/format.js';
import { highlightPython } from '../ui/python-highlight.js';

const MAX_CHILD_LINKS = 24;

/** The top of a task view: status, timing, target, attempts, parent/children, input, and Cancel. */
export class TaskHeader {
  readonly element: HTMLElement;
  private task: Task | null = null;
  private readonly fields = new Map<string, HTMLElement>();
  private readonly facts = new Map<string, HTMLElement>();
  /** Why the task waits while queued (its log events, or the feed's note). */
  private waiting = '';
  private readonly status: HTMLElement;
  private readonly kind: HTMLElement;
  private readonly cancel: HTMLButtonElement;
  private readonly actionError: HTMLElement;
  private readonly input: HTMLElement;
  private inputShown = false;
  private linksKey = '';

  constructor(
    private readonly conn: Connection,
    private readonly tasks: TaskStore,
    readonly taskId: string,
  ) {
    this.status = h('span', { class: 'badge', 'data-testid': 'task-status' }, '…');
    this.kind = h('span', { class: 'badge kind' });
    this.cancel = h(
      'button',
      {
        type: 'button',
        class: 'danger',
        'data-testid': 'cancel-task',
        hidden: true,
        onclick: () => void this.doCancel(),
      },
      'Cancel task',
    );
    this.actionError = h('div', {
      class: 'form-error',
      role: 'alert',
      'data-testid': 'action-error',
      hidden: true,
    });
    const facts = h('dl', { class: 'facts' });
    for (const [key, label] of FIELDS) {
      const dd = h('dd', { 'data-testid': `task-${key}` }, '—');
      this.fields.set(key, dd);
      const fact = h('div', { class: 'fact', 'data-fact': key }, h('dt', null, label), dd);
      this.facts.set(key, fact);
      facts.append(fact);
    }
    this.input = h('div', { class: 'task-input' });
    this.element = h(
      'header',
      { class: 'task-header' },
      h(
        'div',
        { class: 'task-title' },
        h('h2', { class: 'mono', 'data-testid': 'task-id' }, taskId),
        this.kind,
        this.status,
        h('span', { class: 'spacer' }),
        this.cancel,
      ),
      this.actionError,
      facts,
      this.input,
    );
  }

  setTask(task: Task): void {
    this.task = { ...task };
    this.draw();
  }

  /** The store moved: a newer summary of this task (status, timing) or of its children. */
  sync(s: TaskSummary | undefined): void {
    if (!this.task) return;
    if (s && s.lastSeq >= this.task.lastSeq) Object.assign(this.task, s);
    this.draw();
  }

  applyEvent(e: TaskEvent): void {
    const t = this.task;
    if (e.type === 'log' && e.data.waiting) {
      this.waiting = e.data.message.replace(/^waiting: /, '');
      this.tasks.setWaiting({ taskId: this.taskId, reason: e.data.waiting, message: this.waiting });
      this.draw();
      return;
    }
    if (!t || e.type !== 'status') return;
    Object.assign(t, { status: e.data.status, lastSeq: Math.max(t.lastSeq, e.seq), updatedAt: e.ts });
    if (e.data.extensionId) t.extensionId = e.data.extensionId;
    if (e.data.attempt) t.attempts = Math.max(t.attempts, e.data.attempt);
    if (e.data.status === 'running' && !t.startedAt) t.startedAt = e.ts;
    if (isTerminal(e.data.status)) {
      t.endedAt = t.endedAt ?? e.ts;
      void this.refresh();
    }
    this.draw();
  }

  showError(err: ClientError): void {
    this.actionError.hidden = false;
    text(this.actionError, errorText(err));
  }

  /** Clock-driven fields (duration of a running task). */
  tick(): void {
    if (this.task) text(this.field('duration'), taskDuration(this.task));
  }

  private async refresh(): Promise<void> {
    const res = await this.conn.request('task:get', { taskId: this.taskId });
    if (res.ok && (!this.task || res.data.lastSeq >= this.task.lastSeq)) this.setTask(res.data);
  }

  private async doCancel(): Promise<void> {
    this.cancel.disabled = true;
    this.actionError.hidden = true;
    const res = await this.conn.request('task:cancel', { taskId: this.taskId });
    this.cancel.disabled = false;
    if (res.ok) this.setTask(res.data);
    else this.showError(res.error);
  }

  private field(key: string): HTMLElement {
    return this.fields.get(key) as HTMLElement;
  }

  private draw(): void {
    const t = this.task;
    if (!t) return;
    this.status.className = `badge status-${t.status}`;
    this.status.dataset['status'] = t.status;
    text(this.status, STATUS_LABEL[t.status]);
    text(this.kind, t.kind);
    this.cancel.hidden = isTerminal(t.status);
    text(this.field('created'), clockTime(t.createdAt));
    text(this.field('started'), clockTime(t.startedAt));
    text(this.field('ended'), clockTime(t.endedAt));
    text(this.field('duration'), taskDuration(t));
    text(this.field('target'), targetText(t));
    text(this.field('extension'), t.extensionId ?? '—');
    text(this.field('attempts'), `${t.attempts} of ${t.maxAttempts}`);
    text(this.field('timeout'), t.timeoutMs ? formatDuration(t.timeoutMs) : '—');
    text(this.field('trace'), t.traceId);
    const applies = FIELDS_OF[t.kind];
    for (const [key, fact] of this.facts) fact.hidden = !applies.has(key);
    const workflow = t.input['workflow'];
    text(this.field('workflow'), typeof workflow === 'string' ? workflow : '—');
    const waiting =
      t.status === 'queued'
        ? this.tasks.waitingOf(t.id)?.message || this.waiting || t.waiting?.message || ''
        : '';
    this.facts.get('waiting')!.hidden = waiting === '';
    text(this.field('waiting'), waiting);
    const children = this.tasks.childrenOf(t.id);
    // Links are rebuilt only when they change, so a focused link survives the feed's updates.
    const links = `${t.parentId}|${children.map((c) => `${c.id}:${c.status}`).join(',')}`;
    if (links !== this.linksKey) {
      this.linksKey = links;
      replace(this.field('parent'), t.parentId ? taskLink(t.parentId) : '—');
      replace(
        this.field('children'),
        children.length === 0 ? '—' : children.slice(0, MAX_CHILD_LINKS).map((c) => taskLink(c.id, c.status)),
        children.length > MAX_CHILD_LINKS ? ` and ${children.length - MAX_CHILD_LINKS} more` : null,
      );
    }
    if (!this.inputShown) this.drawInput(t);
  }

  private drawInput(t: Task): void {
    this.inputShown = true;
    const code = t.input['code'];
    if (typeof code === 'string') {
      const pre = h(
        'pre',
        { class: 'code', 'data-testid': 'task-code' },
        h('code', { class: 'language-python' }, highlightPython(code)),
      );
      replace(this.input, h('details', { open: true }, h('summary', null, 'Code'), pre));
    } else if (Object.keys(t.input).length > 0) {
      const json = pretty(t.input);
      const lines = json.split('\n').length;
      // A long input (a FlowGram schema, a conversation) starts folded, so the run graph below stays in view.
      const long = lines > INPUT_OPEN_LINES;
      replace(
        this.input,
        h(
          'details',
          { open: !long, 'data-testid': 'task-input-box' },
          h('summary', null, long ? `Input (${lines} lines)` : 'Input'),
          h('pre', { class: 'json', 'data-testid': 'task-input' }, json),
        ),
      );
    }
  }
}

/** Inputs up to this many lines of JSON show open. */
const INPUT_OPEN_LINES = 16;

const FIELDS = [
  ['waiting', 'Waiting'],
  ['workflow', 'Workflow'],
  ['created', 'Created'],
  ['started', 'Started'],
  ['ended', 'Ended'],
  ['duration', 'Duration'],
  ['target', 'Target'],
  ['extension', 'Extension'],
  ['attempts', 'Attempts'],
  ['timeout', 'Timeout'],
  ['trace', 'Trace id'],
  ['parent', 'Parent'],
  ['children', 'Children'],
] as const;

type Field = (typeof FIELDS)[number][0];
const COMMON: Field[] = [
  'waiting',
  'created',
  'started',
  'ended',
  'duration',
  'timeout',
  'trace',
  'parent',
  'children',
];
/** The facts that mean something for each kind: a workflow has no target, extension or dispatch attempts. */
const FIELDS_OF: Record<Task['kind'], ReadonlySet<string>> = {
  code: new Set<string>([...COMMON, 'target', 'extension', 'attempts']),
  workflow: new Set<string>([...COMMON, 'workflow']),
  flowgram: new Set<string>(COMMON),
  plugin: new Set<string>(COMMON),
};

function taskLink(id: string, status?: string): HTMLElement {
  return h(
    'a',
    { class: `task-ref mono ${status ? `status-${status}` : ''}`, href: `#/tasks/${encodeURIComponent(id)}` },
    id,
  );
}
