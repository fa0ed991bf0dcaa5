import type { Connection } from './net/connection.js';
import { mountOverview } from './overview/mount.js';
import { ExtensionStore } from './state/extension-store.js';
import { TaskStore } from './state/task-store.js';
import { connectionBadge } from './ui/connection-badge.js';
import { h } from './ui/dom.js';
import { ExtensionsPanel } from './ui/extensions-panel.js';
import { NewTaskDialog } from './ui/new-task-dialog.js';
import { StartFlowgramForm } from './ui/start-flowgram.js';
import { StartWorkflowForm } from './ui/start-workflow.js';
import { SubmitCodeForm } from './ui/submit-code.js';
import { TaskListPanel } from './ui/task-list.js';
import { TaskView } from './views/task-view.js';

/** Pages of `task:list` loaded at start (newest first); the feed keeps them current after that. */
const LIST_PAGE = 1_000;
const LIST_PAGES = 5;
/** Presence only speaks on changes; this refreshes "last seen" and jobs running. */
const EXTENSIONS_REFRESH_MS = 10_000;

export interface MonitorApp {
  element: HTMLElement;
  /** Stops everything the app runs on its own (timers, routing): called on sign-out, before the socket closes. */
  dispose(): void;
}

/** The signed-in monitor: stores fed by the socket, the panels that show them, and hash routing. */
export function monitorApp(conn: Connection, signOut: () => void): MonitorApp {
  const tasks = new TaskStore();
  const extensions = new ExtensionStore();
  const open = (id: string) => {
    dialog.close();
    window.location.hash = `#/tasks/${encodeURIComponent(id)}`;
  };

  const list = new TaskListPanel(tasks, extensions);
  const view = new TaskView(conn, tasks);
  const extensionsPanel = new ExtensionsPanel(extensions, conn);
  const workflows = new StartWorkflowForm(conn, open, (available) => dialog.setWorkflowsAvailable(available));
  const dialog = new NewTaskDialog({
    code: new SubmitCodeForm(conn, extensions, open).element,
    workflow: workflows.element,
    flowgram: new StartFlowgramForm(open).element,
  });

  conn.socket.on('task:summary', (s) => tasks.upsert(s));
  conn.socket.on('task:waiting', (n) => tasks.setWaiting(n));
  conn.socket.on('extension:presence', (p) => extensions.presence(p.extension, p.online));
  conn.connected.on(async () => {
    // Feed first, then the list: a summary that lands in between is merged by lastSeq, not lost.
    const feed = await conn.request('feed:subscribe', {});
    if (feed.ok) extensions.setOnline(feed.data.extensions);
    await loadTasks();
    await workflows.load();
  });
  const refresh = setInterval(async () => {
    if (!conn.socket.connected) return;
    const res = await conn.request('extensions:list', {});
    if (res.ok) extensions.setOnline(res.data);
  }, EXTENSIONS_REFRESH_MS);

  async function loadTasks(): Promise<void> {
    let cursor: string | undefined;
    for (let page = 0; page < LIST_PAGES; page++) {
      const res = await conn.request('task:list', { limit: LIST_PAGE, ...(cursor ? { cursor } : {}) });
      if (!res.ok) return;
      tasks.upsertMany(res.data.tasks);
      if (!res.data.nextCursor) return;
      cursor = res.data.nextCursor;
    }
  }

  const route = () => {
    const m = /^#\/tasks\/(.+)$/.exec(window.location.hash);
    const id = m?.[1] ? decodeURIComponent(m[1]) : '';
    list.select(id);
    if (id) view.show(id);
    else view.close();
  };
  window.addEventListener('hashchange', route);
  route();

  const element = h(
    'div',
    { class: 'app' },
    h(
      'header',
      { class: 'topbar' },
      h(
        'a',
        { class: 'brand', href: '#/' },
        h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
        'Switchboard',
      ),
      h('span', { class: 'muted topbar-sub' }, 'live monitor'),
      dialog.opener,
      h('span', { class: 'spacer' }),
      connectionBadge(conn),
      h(
        'button',
        { type: 'button', class: 'ghost', 'data-testid': 'sign-out', onclick: signOut },
        'Sign out',
      ),
    ),
    h(
      'main',
      { class: 'layout' },
      h('aside', { class: 'sidebar', 'aria-label': 'Extensions' }, extensionsPanel.element),
      list.element,
      view.element,
    ),
    dialog.element,
  );
  const disposeOverview = mountOverview(element);

  return {
    element,
    dispose() {
      clearInterval(refresh);
      window.removeEventListener('hashchange', route);
      dialog.close();
      list.dispose();
      view.dispose();
      extensionsPanel.dispose();
      disposeOverview();
    },
  };
}
