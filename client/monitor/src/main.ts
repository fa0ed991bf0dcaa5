import './styles/base.css';
import './styles/frame.css';
import './styles/panels.css';
import './styles/tasks.css';
import './styles/task-view.css';
import './styles/stream.css';
import './styles/flow.css';
import './styles/graph.css';
import './styles/task-tree.css';
import './styles/dialog.css';
import { type MonitorApp, monitorApp } from './app.js';
import { Connection } from './net/connection.js';
import { forgetToken, storedToken, storeToken, takeTokenFromAddress } from './net/token.js';
import { replace } from './ui/dom.js';
import { signInView } from './ui/sign-in.js';
import { setOutputToken } from './views/plugin-outputs.js';

declare global {
  interface Window {
    /** Diagnostics: drop the socket's transport as a network failure would (it reconnects by itself). */
    switchboard?: { dropConnection(): void };
  }
}

const root = document.getElementById('app') as HTMLElement;
let conn: Connection | null = null;
let app: MonitorApp | null = null;

/** Back to the sign-in card: the app's timers stop first, then the socket closes. */
function signIn(message = ''): void {
  app?.dispose();
  app = null;
  conn?.close();
  conn = null;
  window.switchboard = undefined;
  replace(
    root,
    signInView((token) => {
      storeToken(token);
      start(token);
    }, message),
  );
}

function start(token: string): void {
  const c = new Connection(token);
  setOutputToken(token);
  conn = c;
  window.switchboard = { dropConnection: () => c.dropTransport() };
  c.refused.on((err) => {
    forgetToken();
    signIn(`The hub refused this token: ${err.message}`);
  });
  app = monitorApp(c, () => {
    forgetToken();
    signIn();
  });
  replace(root, app.element);
}

const fromAddress = takeTokenFromAddress();
if (fromAddress) storeToken(fromAddress);
const token = storedToken();
if (token) start(token);
else signIn();
