import '../styles/overview.css';
import { storedToken } from '../net/token.js';
import { h } from '../ui/dom.js';
import { OverviewPage } from './overview-page.js';

const HASH = '#/overview';

/**
 * Adds the overview to the signed-in app: a Tasks / Overview nav in the top bar, the page after the task
 * layout, and the `#/overview` route that swaps one for the other.
 */
/** Adds the Overview page and its top-bar links; returns what undoes it (sign-out). */
export function mountOverview(app: HTMLElement): () => void {
  const page = new OverviewPage(storedToken);
  const layout = app.querySelector<HTMLElement>('.layout');
  const tasksLink = h('a', { href: '#/', 'data-testid': 'nav-tasks' }, 'Tasks');
  const overviewLink = h('a', { href: HASH, 'data-testid': 'nav-overview' }, 'Overview');
  const nav = h('nav', { class: 'top-nav', 'aria-label': 'Views' }, tasksLink, overviewLink);
  const sub = app.querySelector('.topbar-sub');
  if (sub) sub.after(nav);
  else app.querySelector('.topbar')?.append(nav);
  page.element.hidden = true;
  app.append(page.element);

  const route = () => {
    const on = window.location.hash === HASH;
    if (layout) layout.hidden = on;
    for (const [link, current] of [
      [overviewLink, on],
      [tasksLink, !on],
    ] as const) {
      if (current) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    if (on) page.show();
    else page.hide();
  };
  window.addEventListener('hashchange', route);
  // After the app is in the document: the charts measure their cards.
  const frame = requestAnimationFrame(route);
  return () => {
    cancelAnimationFrame(frame);
    window.removeEventListener('hashchange', route);
    page.hide();
  };
}
