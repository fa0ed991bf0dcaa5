import { io, type ManagerOptions, type Socket } from 'socket.io-client';
import type { z } from 'zod';
import {
  MonitorClientEvents,
  type MonitorClientToServer,
  type MonitorEventName,
  type MonitorServerToClient,
  NAMESPACES,
} from '../../server/protocol/index.js';
import { errorFromConnect, SwitchboardError, toSwitchboardError } from '../core/errors.js';

export type MonitorSocket = Socket<MonitorServerToClient, MonitorClientToServer>;
type TimedMonitorSocket = ReturnType<MonitorSocket['timeout']>;

/** Reconnection knobs passed through to Socket.IO (tests shorten the delays). */
export type SocketTuning = Partial<
  Pick<
    ManagerOptions,
    'reconnectionDelay' | 'reconnectionDelayMax' | 'randomizationFactor' | 'reconnectionAttempts'
  >
>;

type AckOf<E extends MonitorEventName> = z.infer<(typeof MonitorClientEvents)[E]['ack']>;
/** What a successful ack of event `E` carries. */
export type AckData<E extends MonitorEventName> = Extract<AckOf<E>, { ok: true }>['data'];

export interface ConnectionOptions {
  url: string;
  token: string;
  timeoutMs: number;
  tuning?: SocketTuning;
  /** Called once when the connection can no longer recover (refused handshake, never reachable). */
  onFatal: (err: SwitchboardError) => void;
}

/**
 * One `/monitor` socket and its lifecycle. Socket.IO redials by itself after transport loss; this class adds
 * the two cases it leaves alone: a first dial that fails (reported, not retried forever) and the hub
 * dropping us on purpose (a slow reader), after which the design says to come back and resume by seq.
 */
export class MonitorConnection {
  readonly socket: MonitorSocket;
  /** Settles with the first successful handshake, or the failure that ends this connection. */
  readonly ready: Promise<void>;
  readonly #timeoutMs: number;
  readonly #redialMs: number;
  readonly #onFatal: (err: SwitchboardError) => void;
  #everConnected = false;
  #closed = false;
  #redial: NodeJS.Timeout | undefined;
  #settleReady: { resolve: () => void; reject: (err: SwitchboardError) => void } | undefined;

  constructor(opts: ConnectionOptions) {
    this.#timeoutMs = opts.timeoutMs;
    this.#redialMs = opts.tuning?.reconnectionDelay ?? 1000;
    this.#onFatal = opts.onFatal;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#settleReady = { resolve, reject };
    });
    // Nobody may be awaiting `ready` (a follow() that dials on its own); its failure reaches onFatal anyway.
    this.ready.catch(() => {});
    const url = opts.url.replace(/\/+$/, '') + NAMESPACES.monitor;
    this.socket = io(url, {
      auth: { token: opts.token },
      transports: ['websocket'],
      autoConnect: false,
      ...opts.tuning,
    });
    this.socket.on('connect', () => {
      this.#everConnected = true;
      this.#settleReady?.resolve();
    });
    this.socket.on('connect_error', (err) => {
      // A transport failure leaves the socket active and Socket.IO keeps redialling; a refused handshake
      // does not. Before the first success both mean the hub cannot be used with these settings.
      if (!this.#everConnected || !this.socket.active) this.#fail(errorFromConnect(err, url));
    });
    this.socket.on('disconnect', (reason) => {
      if (reason !== 'io server disconnect' || this.#closed) return;
      this.#redial = setTimeout(() => this.socket.connect(), this.#redialMs);
    });
    this.socket.connect();
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /**
   * Sends one request through the typed socket and checks the ack against the contract. `send` receives the
   * socket with the request timeout applied, so each call site keeps Socket.IO's event-map typing.
   */
  async call<E extends MonitorEventName>(
    event: E,
    send: (socket: TimedMonitorSocket) => Promise<unknown>,
  ): Promise<AckData<E>> {
    let raw: unknown;
    try {
      raw = await send(this.socket.timeout(this.#timeoutMs));
    } catch (err) {
      throw toSwitchboardError(err, event);
    }
    const parsed = MonitorClientEvents[event].ack.safeParse(raw);
    if (!parsed.success) {
      throw new SwitchboardError('bad_response', `${event}: the ack does not match the contract.`, {
        details: parsed.error.issues,
      });
    }
    // Indexing the contract with a generic event name widens the parsed type to every ack; narrow it back.
    const ack = parsed.data as AckOf<E>;
    if (!ack.ok) throw SwitchboardError.fromBody(ack.error);
    return (ack as Extract<AckOf<E>, { ok: true }>).data;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#redial);
    this.#settleReady?.reject(new SwitchboardError('client_closed', 'The client was closed.'));
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }

  #fail(err: SwitchboardError): void {
    if (this.#closed) return;
    this.#settleReady?.reject(err);
    this.close();
    this.#onFatal(err);
  }
}
