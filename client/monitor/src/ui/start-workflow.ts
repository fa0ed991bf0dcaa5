import type { Connection } from '../net/connection.js';
import type { StartWorkflow, WorkflowInfo } from '../protocol.js';
import { h, replace, text } from './dom.js';
import { submitForm } from './error-text.js';

/** An older hub may not answer `workflows:list` at all: this long, then the form stays hidden. */
const LIST_TIMEOUT_MS = 3_000;

/**
 * Start a registered workflow with a message. Shown only when the hub lists workflows (`workflows:list`);
 * an error or no answer hides it. `data-state` says which: loading, ready, unavailable.
 */
export class StartWorkflowForm {
  readonly element: HTMLElement;
  private readonly workflow: HTMLSelectElement;
  private readonly description: HTMLElement;
  private readonly message: HTMLTextAreaElement;
  private readonly model: HTMLInputElement;
  private readonly button: HTMLButtonElement;
  private readonly error: HTMLElement;
  private workflows: WorkflowInfo[] = [];

  constructor(
    private readonly conn: Connection,
    private readonly onStarted: (taskId: string) => void,
  ) {
    this.workflow = h('select', {
      id: 'wf-name',
      'data-testid': 'workflow-select',
      onchange: () => this.describe(),
    });
    this.description = h('p', { class: 'muted small', 'data-testid': 'workflow-description' });
    this.message = h('textarea', {
      id: 'wf-message',
      rows: 3,
      required: true,
      'data-testid': 'workflow-message',
    });
    this.model = h('input', { id: 'wf-model', placeholder: 'default', 'data-testid': 'workflow-model' });
    this.button = h(
      'button',
      { type: 'submit', class: 'primary', 'data-testid': 'workflow-start' },
      'Start workflow',
    );
    this.error = h('div', {
      class: 'form-error',
      role: 'alert',
      'data-testid': 'workflow-error',
      hidden: true,
    });
    this.element = h(
      'section',
      {
        class: 'panel',
        'aria-labelledby': 'wf-title',
        'data-testid': 'workflow-form',
        'data-state': 'loading',
        hidden: true,
      },
      h('header', { class: 'panel-head' }, h('h2', { id: 'wf-title' }, 'Start a workflow')),
      h(
        'form',
        {
          class: 'form',
          onsubmit: (e) => {
            e.preventDefault();
            void this.start();
          },
        },
        h('label', { for: 'wf-name' }, 'Workflow'),
        this.workflow,
        this.description,
        h('label', { for: 'wf-message' }, 'Message'),
        this.message,
        h('label', { for: 'wf-model' }, 'Model ', h('span', { class: 'muted' }, '(optional)')),
        this.model,
        this.error,
        this.button,
      ),
    );
  }

  /** Asks the hub which workflows it has (on every connect: the hub may have changed). */
  async load(): Promise<void> {
    const res = await this.conn.request('workflows:list', {}, LIST_TIMEOUT_MS);
    const list = res.ok ? res.data : null;
    this.element.hidden = !list || list.length === 0;
    this.element.dataset['state'] = this.element.hidden ? 'unavailable' : 'ready';
    if (!list) return;
    this.workflows = list;
    const selected = this.workflow.value;
    replace(
      this.workflow,
      list.map((w) => h('option', { value: w.name }, w.name)),
    );
    if (list.some((w) => w.name === selected)) this.workflow.value = selected;
    this.describe();
  }

  private describe(): void {
    text(this.description, this.workflows.find((w) => w.name === this.workflow.value)?.description ?? '');
  }

  private async start(): Promise<void> {
    const body: StartWorkflow = { workflow: this.workflow.value, message: this.message.value };
    if (this.model.value.trim()) body.model = this.model.value.trim();
    const task = await submitForm(this.button, this.error, () => this.conn.request('workflow:start', body));
    if (task) this.onStarted(task.id);
  }
}
