import type { Connection } from '../net/connection.js';
import type { ExtensionStore, ExtensionView } from '../state/extension-store.js';
import { frameScheduler, h, replace, text } from './dom.js';
import { ExtensionLogView } from './extension-log.js';
import { ago } from './format.js';

/** Extensions online (live, from presence) and those that left during this session, marked offline. */
export class ExtensionsPanel {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly count: HTMLElement;
  private clocks: (() => void)[] = [];
  private readonly logs = new Map<string, ExtensionLogView>();

  private readonly clock: ReturnType<typeof setInterval>;

  constructor(
    private readonly store: ExtensionStore,
    private readonly conn?: Connection,
  ) {
    this.list = h('ul', { class: 'ext-list', 'aria-label': 'Extensions' });
    this.count = h('span', { class: 'muted', 'data-testid': 'extensions-online' });
    this.element = h(
      'section',
      { class: 'panel ext-panel', 'aria-labelledby': 'ext-title' },
      h('header', { class: 'panel-head' }, h('h2', { id: 'ext-title' }, 'Extensions'), this.count),
      this.list,
    );
    store.changed.on(frameScheduler(() => this.draw()));
    this.clock = setInterval(() => {
      for (const tick of this.clocks) tick();
    }, 1_000);
    this.draw();
  }

  dispose(): void {
    clearInterval(this.clock);
  }

  private draw(): void {
    const views = this.store.all();
    text(this.count, `${views.filter((v) => v.online).length} online`);
    this.clocks = [];
    if (views.length === 0) {
      replace(this.list, h('li', { class: 'empty' }, 'No extension has connected yet.'));
      return;
    }
    replace(
      this.list,
      views.map((v) => this.card(v)),
    );
  }

  private logView(extensionId: string): HTMLElement | null {
    if (!this.conn) return null;
    let view = this.logs.get(extensionId);
    if (!view) {
      view = new ExtensionLogView(this.conn, extensionId);
      this.logs.set(extensionId, view);
    }
    return view.element;
  }

  private card(v: ExtensionView): HTMLElement {
    const { info, online } = v;
    const seen = h('span', { class: 'ext-seen' });
    const tick = () => text(seen, online ? `seen ${ago(info.lastSeen)}` : `left ${ago(v.seenAt)}`);
    tick();
    this.clocks.push(tick);
    const host = [info.capabilities.hostApp, info.capabilities.hostVersion].filter(Boolean).join(' ');
    return h(
      'li',
      {
        class: `ext ${online ? 'online' : 'offline'}`,
        'data-testid': 'extension',
        'data-extension-id': info.id,
        'data-online': String(online),
      },
      h(
        'div',
        { class: 'ext-head' },
        h('span', { class: 'presence-dot', 'aria-hidden': 'true' }),
        h('strong', { class: 'ext-name' }, info.name),
        h(
          'span',
          { class: `badge ${online ? 'status-succeeded' : 'status-cancelled'}` },
          online ? 'Online' : 'Offline',
        ),
        online && info.state && info.state !== 'ready'
          ? h(
              'span',
              {
                class: `badge ${info.state === 'stuck' ? 'status-failed' : 'status-queued'}`,
                'data-testid': 'extension-state',
                title:
                  info.state === 'stuck'
                    ? `A job will not stop (${(info.stuck ?? []).join(', ')}); its slot stays busy`
                    : 'Its user paused taking jobs',
              },
              info.state === 'stuck' ? 'Stuck' : 'Paused',
            )
          : null,
      ),
      h('div', { class: 'ext-id mono', title: 'Extension id' }, info.id),
      h(
        'div',
        { class: 'ext-facts' },
        h('span', { 'data-testid': 'extension-host', title: 'Host application and version' }, host),
        h(
          'span',
          { 'data-testid': 'extension-jobs', title: 'Jobs running / concurrency' },
          `${online ? info.running.length : 0}/${info.concurrency} jobs`,
        ),
        seen,
      ),
      info.labels.length
        ? h(
            'div',
            { class: 'labels', 'aria-label': 'Labels' },
            info.labels.map((l) => h('span', { class: 'label' }, l)),
          )
        : null,
      info.capabilities.stagePath
        ? h('div', { class: 'ext-stage mono', title: 'Open stage' }, info.capabilities.stagePath)
        : null,
      this.logView(info.id),
    );
  }
}
