import { io, type Socket } from 'socket.io-client';
import { type AckSocket, requestWithAck } from '../../../core/ack.js';
import { errorFromConnect, SwitchboardError } from '../../../core/errors.js';
import type { ErrorBody, MonitorClientToServer, MonitorServerToClient } from '../protocol.js';
import { Emitter } from '../state/emitter.js';

export type MonitorSocket = Socket<MonitorServerToClient, MonitorClientToServer>;
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

/**
 * A hub error, or one the client core names on this side of the wire (`hub_unreachable`, `request_timeout`,
 * `bad_response`): the same codes the SDK and the CLI report.
 */
export type ClientError = SwitchboardError;
export type Result<T> = { ok: true; data: T } | { ok: false; error: ClientError };

type Requests = MonitorClientToServer;
export type RequestName = keyof Requests;
export type PayloadOf<E extends RequestName> = Requests[E] extends (
  payload: infer P,
  ...rest: never[]
) => void
  ? P
  : never;
type AckOf<E extends RequestName> = Requests[E] extends (payload: never, ack: (res: infer R) => void) => void
  ? R
  : never;
export type DataOf<E extends RequestName> =
  Extract<AckOf<E>, { ok: true }> extends { data: infer D } ? D : never;

/** Failed attempts after which "reconnecting" is shown as "offline" (it keeps trying either way). */
const OFFLINE_AFTER_ATTEMPTS = 3;
/** When the hub itself drops the socket (slow reader, restart), Socket.IO does not retry: we do. */
const REJOIN_AFTER_MS = 1_000;

/**
 * The one `/monitor` socket: requests with acks and timeouts, a visible state that always recovers by
 * itself, and a `connected` signal on every (re)connect so views can resume where they were.
 */
export class Connection {
  readonly socket: MonitorSocket;
  state: ConnectionState = 'connecting';
  /** Why the state is what it is (last error), for the status tooltip. */
  detail = '';
  /** The last failure to reach the hub (its code is the SDK's), cleared on connect. */
  error: ClientError | null = null;
  readonly stateChanged = new Emitter<ConnectionState>();
  readonly connected = new Emitter<{ first: boolean }>();
  /** The hub refused the token: the page goes back to sign-in. */
  readonly refused = new Emitter<ErrorBody>();
  private everConnected = false;
  private failures = 0;
  private closed = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(token: string, path = '/monitor') {
    this.socket = io(path, {
      auth: { token },
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
      timeout: 8_000,
    });
    const s = this.socket;
    s.on('connect', () => {
      this.failures = 0;
      this.error = null;
      this.set('connected', '');
      const first = !this.everConnected;
      this.everConnected = true;
      this.connected.emit({ first });
    });
    s.on('disconnect', (reason) => {
      if (this.closed) return;
      this.error = new SwitchboardError('hub_unreachable', `connection lost (${reason})`);
      this.set('reconnecting', `connection lost (${reason})`);
      if (reason === 'io server disconnect') this.retry(REJOIN_AFTER_MS);
    });
    s.on('connect_error', (err) => {
      const body = (err as Error & { data?: ErrorBody }).data;
      if (body?.code === 'unauthorized' || body?.code === 'forbidden') {
        this.refused.emit(body);
        return;
      }
      this.failures += 1;
      this.error = errorFromConnect(err, `${window.location.origin}${path}`);
      const offline = !navigator.onLine || this.failures >= OFFLINE_AFTER_ATTEMPTS;
      this.set(offline ? 'offline' : this.everConnected ? 'reconnecting' : 'connecting', this.error.message);
      // A refusal by the hub's middleware (e.g. rate limited) ends Socket.IO's own retries.
      if (!s.active) this.retry(3_000);
    });
    s.on('hub:error', (body) => {
      this.detail = body.message;
      this.stateChanged.emit(this.state);
    });
    window.addEventListener('offline', this.onOffline);
    window.addEventListener('online', this.onOnline);
  }

  /** A request the contract names, with its typed ack. Fails fast when not connected. */
  request<E extends RequestName>(
    event: E,
    payload: PayloadOf<E>,
    timeoutMs = 10_000,
  ): Promise<Result<DataOf<E>>> {
    return this.send(event, payload, timeoutMs) as Promise<Result<DataOf<E>>>;
  }

  private send(event: string, payload: unknown, timeoutMs: number): Promise<Result<unknown>> {
    return requestWithAck(this.socket as unknown as AckSocket, event, payload, timeoutMs);
  }

  /** Drops the transport as a network failure would; the socket reconnects by itself (diagnostics, tests). */
  dropTransport(): void {
    this.socket.io.engine?.close();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    window.removeEventListener('offline', this.onOffline);
    window.removeEventListener('online', this.onOnline);
    this.socket.disconnect();
    this.stateChanged.clear();
    this.connected.clear();
    this.refused.clear();
  }

  private readonly onOffline = () => {
    if (!this.socket.connected) this.set('offline', 'the browser is offline');
  };

  /** Back online: try at once instead of waiting out Socket.IO's backoff (a fresh manager cycle). */
  private readonly onOnline = () => {
    if (this.closed || this.socket.connected) return;
    this.socket.disconnect();
    this.socket.connect();
  };

  private retry(ms: number): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.closed && !this.socket.connected) this.socket.connect();
    }, ms);
  }

  private set(state: ConnectionState, detail: string): void {
    this.detail = detail;
    if (state === this.state && !detail) return;
    this.state = state;
    this.stateChanged.emit(state);
  }
}
