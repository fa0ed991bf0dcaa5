import { io, type Socket } from 'socket.io-client';
import type { ErrorBody, ErrorCode, MonitorClientToServer, MonitorServerToClient } from '../protocol.js';
import { Emitter } from '../state/emitter.js';

export type MonitorSocket = Socket<MonitorServerToClient, MonitorClientToServer>;
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

/** A hub error, or one the page makes itself: the request timed out, or there is no connection. */
export interface ClientError {
  code: ErrorCode | 'timeout' | 'offline';
  message: string;
  field?: string | undefined;
}
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
      this.set('connected', '');
      const first = !this.everConnected;
      this.everConnected = true;
      this.connected.emit({ first });
    });
    s.on('disconnect', (reason) => {
      if (this.closed) return;
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
      const offline = !navigator.onLine || this.failures >= OFFLINE_AFTER_ATTEMPTS;
      this.set(offline ? 'offline' : this.everConnected ? 'reconnecting' : 'connecting', err.message);
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

  private async send(event: string, payload: unknown, timeoutMs: number): Promise<Result<unknown>> {
    if (!this.socket.connected) {
      return {
        ok: false,
        error: { code: 'offline', message: 'Not connected to the hub: try again once it is back.' },
      };
    }
    const emitter = this.socket.timeout(timeoutMs) as unknown as {
      emitWithAck(event: string, payload: unknown): Promise<unknown>;
    };
    try {
      const res = await emitter.emitWithAck(event, payload);
      if (isAck(res)) return res;
      return { ok: false, error: { code: 'internal', message: `${event}: unexpected answer from the hub` } };
    } catch {
      return { ok: false, error: { code: 'timeout', message: `${event}: the hub did not answer in time` } };
    }
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

function isAck(v: unknown): v is Result<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { ok?: unknown }).ok === 'boolean';
}
