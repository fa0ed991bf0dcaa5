import type { Connection } from '../net/connection.js';
import type { StartWorkflow, WorkflowInfo } from '../protocol.js';
import { h, replace, text } from './dom.js';
import { submitForm } from './error-text.js';

/** An older hub may not answer `workflows:list` at all: this long, then the form stays hidden. */
const LIST_TIMEOUT_MS = 3_000;

/** The hub's native tools (what `switchboard run --tool` offers); plugin tools go in the "more tools" field. */
export const NATIVE_TOOLS = [
  ['get_time', 'The current time'],
  ['calculator', 'Arithmetic'],
  ['kit_execute', 'Run Python on an extension (a child task)'],
] as const;

/**
 * Start a registered workflow with a message, the tools it may call and the model settings: the fields of
 * `switchboard run` (`--tool`, `--model`, `--base-url`, `--api-key`) plus temperature, max tokens and turns,
 * sent as the run's `runtime_config`. Shown only when the hub lists workflows (`workflows:list`); an error or
 * no answer hides it. `data-state` says which: loading, ready, unavailable.
 */
export class StartWorkflowForm {
  readonly element: HTMLElement;
  /** True once the hub listed at least one workflow. */
  available = false;
  private readonly workflow: HTMLSelectElement;
  private readonly description: HTMLElement;
  private readonly message: HTMLTextAreaElement;
  private readonly tools: HTMLInputElement[];
  private readonly moreTools: HTMLInputElement;
  private readonly model: HTMLInputElement;
  private readonly baseUrl: HTMLInputElement;
  private readonly apiKey: HTMLInputElement;
  private readonly temperature: HTMLInputElement;
  private readonly maxTokens: HTMLInputElement;
  private readonly maxIterations: HTMLInputElement;
  private readonly button: HTMLButtonElement;
  private readonly error: HTMLElement;
  private workflows: WorkflowInfo[] = [];

  constructor(
    private readonly conn: Connection,
    private readonly onStarted: (taskId: string) => void,
    private readonly onAvailability: (available: boolean) => void = () => {},
  ) {
    this.workflow = h('select', {
      id: 'wf-name',
      'data-testid': 'workflow-select',
      onchange: () => this.describe(),
    });
    this.description = h('p', { class: 'muted small', 'data-testid': 'workflow-description' });
    this.message = h('textarea', {
      id: 'wf-message',
      rows: 6,
      required: true,
      'data-testid': 'workflow-message',
    });
    this.tools = NATIVE_TOOLS.map(([name]) =>
      h('input', {
        type: 'checkbox',
        value: name,
        id: `wf-tool-${name}`,
        'data-testid': `workflow-tool-${name}`,
      }),
    );
    this.moreTools = input('wf-more-tools', 'workflow-more-tools', 'plugin tools, comma separated');
    this.model = input('wf-model', 'workflow-model', 'hub default');
    this.baseUrl = input('wf-base-url', 'workflow-base-url', 'hub default (OpenAI-compatible /v1 URL)');
    this.baseUrl.type = 'url';
    this.apiKey = input('wf-api-key', 'workflow-api-key', 'hub default; never stored or shown');
    this.apiKey.type = 'password';
    this.apiKey.autocomplete = 'off';
    this.temperature = numberInput('wf-temperature', 'workflow-temperature', { min: 0, max: 2, step: 0.1 });
    this.maxTokens = numberInput('wf-max-tokens', 'workflow-max-tokens', { min: 1, step: 1 });
    this.maxIterations = numberInput('wf-max-iterations', 'workflow-max-iterations', {
      min: 1,
      max: 100,
      step: 1,
    });
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
        class: 'panel new-task-form',
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
          'data-testid': 'new-task-workflow',
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
        h(
          'fieldset',
          { class: 'wf-tools' },
          h('legend', null, 'Tools'),
          NATIVE_TOOLS.map(([name, what], i) =>
            h(
              'label',
              { class: 'check', for: `wf-tool-${name}` },
              this.tools[i],
              h('span', { class: 'mono' }, name),
              h('span', { class: 'muted' }, what),
            ),
          ),
          field('wf-more-tools', 'More tools', this.moreTools),
        ),
        h(
          'fieldset',
          { class: 'wf-model' },
          h('legend', null, 'Model'),
          h(
            'div',
            { class: 'form-grid' },
            field('wf-model', 'Model name', this.model),
            field('wf-base-url', 'Base URL', this.baseUrl),
            field('wf-api-key', 'API key', this.apiKey),
            field('wf-temperature', 'Temperature', this.temperature),
            field('wf-max-tokens', 'Max tokens', this.maxTokens),
            field('wf-max-iterations', 'Max turns', this.maxIterations),
          ),
        ),
        this.error,
        this.button,
      ),
    );
  }

  /** Asks the hub which workflows it has (on every connect: the hub may have changed). */
  async load(): Promise<void> {
    const res = await this.conn.request('workflows:list', {}, LIST_TIMEOUT_MS);
    const list = res.ok ? res.data : null;
    this.available = !!list && list.length > 0;
    this.element.hidden = !this.available;
    this.element.dataset['state'] = this.available ? 'ready' : 'unavailable';
    this.onAvailability(this.available);
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

  /** The request `switchboard run` would send for the same settings. */
  request(): StartWorkflow {
    const body: StartWorkflow = { workflow: this.workflow.value, message: this.message.value };
    const model: Record<string, unknown> = {};
    const name = this.model.value.trim();
    if (name) model['model_name'] = name;
    if (this.baseUrl.value.trim()) model['base_url'] = this.baseUrl.value.trim();
    if (this.apiKey.value) model['api_key'] = this.apiKey.value;
    const temperature = numberOf(this.temperature);
    if (temperature !== undefined) model['temperature'] = temperature;
    const maxTokens = numberOf(this.maxTokens);
    if (maxTokens !== undefined) model['max_tokens'] = maxTokens;
    const tools = [
      ...this.tools.filter((t) => t.checked).map((t) => t.value),
      ...this.moreTools.value
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    ];
    const rc: Record<string, unknown> = {};
    if (Object.keys(model).length > 0) rc['model'] = model;
    if (tools.length > 0) rc['tools'] = tools;
    const turns = numberOf(this.maxIterations);
    if (turns !== undefined) rc['max_iterations'] = turns;
    if (Object.keys(rc).length > 0) body.runtime_config = rc;
    return body;
  }

  private async start(): Promise<void> {
    const body = this.request();
    const res = await submitForm(this.button, this.error, () => this.conn.request('workflow:start', body));
    if (res.ok) {
      // The key is for this run only: it does not stay in the page.
      this.apiKey.value = '';
      this.onStarted(res.data.id);
    }
  }
}

function input(id: string, testId: string, placeholder: string): HTMLInputElement {
  return h('input', { id, name: id, placeholder, spellcheck: 'false', 'data-testid': testId });
}

function numberInput(
  id: string,
  testId: string,
  range: { min: number; max?: number; step: number },
): HTMLInputElement {
  return h('input', {
    id,
    name: id,
    type: 'number',
    placeholder: 'default',
    inputmode: 'decimal',
    'data-testid': testId,
    ...range,
  });
}

function field(id: string, label: string, control: HTMLElement): HTMLElement {
  return h('div', { class: 'field' }, h('label', { for: id }, label), control);
}

/** A number field's value, or undefined when empty; a value the browser cannot read goes to the hub to judge. */
function numberOf(el: HTMLInputElement): number | undefined {
  if (el.value.trim() === '') return undefined;
  const n = Number(el.value);
  return Number.isFinite(n) ? n : undefined;
}
