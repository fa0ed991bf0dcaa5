import type { Connection, ConnectionState } from '../net/connection.js';
import { h, text } from './dom.js';

const LABEL: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline — retrying',
};

/** Always-visible connection state; a polite live region so screen readers hear it change. */
export function connectionBadge(conn: Connection): HTMLElement {
  const label = h('span', null);
  // The client core's code for why the hub cannot be used (`hub_unreachable`, ...), as the SDK and CLI name it.
  const code = h('span', { class: 'conn-code mono', 'data-testid': 'connection-code' });
  const el = h(
    'div',
    { class: 'conn', role: 'status', 'aria-live': 'polite', 'data-testid': 'connection' },
    h('span', { class: 'conn-dot', 'aria-hidden': 'true' }),
    label,
    code,
  );
  const draw = () => {
    el.dataset['state'] = conn.state;
    const failure = conn.state === 'connected' ? '' : (conn.error?.code ?? '');
    el.dataset['code'] = failure;
    code.hidden = !failure;
    text(code, failure);
    el.title = conn.detail || LABEL[conn.state];
    text(label, LABEL[conn.state]);
  };
  conn.stateChanged.on(draw);
  draw();
  return el;
}
