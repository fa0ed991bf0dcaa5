import { h } from './dom.js';

export type NewTaskForm = 'code' | 'workflow' | 'flowgram';
const FORMS: readonly NewTaskForm[] = ['code', 'workflow', 'flowgram'];

/**
 * The "New task" dialog: the code, workflow and FlowGram forms, one at a time under tabs, in a modal wide enough for
 * the code editor (the sidebar was 320 px). Esc or the close button dismisses it; a started task closes it.
 */
export class NewTaskDialog {
  readonly element: HTMLDialogElement;
  readonly opener: HTMLButtonElement;
  private readonly tabs: Record<NewTaskForm, HTMLButtonElement>;
  private readonly panels: Record<NewTaskForm, HTMLElement>;
  private current: NewTaskForm = 'code';

  constructor(forms: Record<NewTaskForm, HTMLElement>) {
    this.tabs = {
      code: this.tab('code', 'Python code'),
      workflow: this.tab('workflow', 'Workflow'),
      flowgram: this.tab('flowgram', 'FlowGram'),
    };
    this.panels = {
      code: h('div', { role: 'tabpanel', id: 'new-task-panel-code' }, forms.code),
      workflow: h('div', { role: 'tabpanel', id: 'new-task-panel-workflow' }, forms.workflow),
      flowgram: h('div', { role: 'tabpanel', id: 'new-task-panel-flowgram' }, forms.flowgram),
    };
    this.element = h(
      'dialog',
      { class: 'new-task-dialog', 'aria-labelledby': 'new-task-title', 'data-testid': 'new-task-dialog' },
      h(
        'header',
        { class: 'dialog-head' },
        h('h2', { id: 'new-task-title' }, 'New task'),
        h('div', { class: 'tabs', role: 'tablist' }, ...FORMS.map((f) => this.tabs[f])),
        h('span', { class: 'spacer' }),
        h(
          'button',
          {
            type: 'button',
            class: 'ghost',
            'aria-label': 'Close',
            'data-testid': 'new-task-close',
            onclick: () => this.close(),
          },
          'Close',
        ),
      ),
      ...FORMS.map((f) => this.panels[f]),
    );
    this.opener = h(
      'button',
      { type: 'button', class: 'primary', 'data-testid': 'new-task', onclick: () => this.open() },
      'New task',
    );
    this.select('code');
  }

  open(form: NewTaskForm = this.current): void {
    this.select(form);
    if (!this.element.open) this.element.showModal();
  }

  close(): void {
    if (this.element.open) this.element.close();
  }

  /** The workflow tab is offered only when the hub has workflows. */
  setWorkflowsAvailable(available: boolean): void {
    this.tabs.workflow.hidden = !available;
    if (!available && this.current === 'workflow') this.select('code');
  }

  private select(form: NewTaskForm): void {
    this.current = form;
    for (const key of FORMS) {
      this.tabs[key].setAttribute('aria-selected', String(key === form));
      this.panels[key].hidden = key !== form;
    }
  }

  private tab(form: NewTaskForm, label: string): HTMLButtonElement {
    return h(
      'button',
      {
        type: 'button',
        role: 'tab',
        class: 'tab',
        'aria-controls': `new-task-panel-${form}`,
        'data-testid': `new-task-tab-${form}`,
        onclick: () => this.select(form),
      },
      label,
    );
  }
}
