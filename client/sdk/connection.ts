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
import { HubRotation } from '../core/hubs.js';

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
  /** One hub URL, or several processes of one scaled-out hub, tried in order. */
  urls: readonly string[];
  token: string;
  timeoutMs: number;
  tuning?: SocketTuning;
  /** Called once when the connection can no longer recover (refused handshake, never reachable). */
  onFatal: (err: SwitchboardError) => void;
}

type TaskEventListener = (raw: unknown) => void;

/**
 * The `/monitor` connection and its lifecycle. With one hub, Socket.IO redials it by itself after a transport
 * loss; this class adds the two cases it leaves alone: a first dial that fails (reported, not retried
 * forever) and the hub dropping us on purpose (a slow reader), after which the design says to come back and
 * resume by seq. With several hubs, a lost or failed connection moves to the next hub at once, and waits
 * (doubling, with jitter) only after every hub has failed in a row; each hub gets a socket of its own, so
 * listeners are held here and follow the connection from socket to socket.
 */
export class MonitorConnection {
  /** Settles with the first successful handshake, or the failure that ends this connection. */
  readonly ready: Promise<void>;
  readonly #hubs: HubRotation;
  readonly #token: string;
  readonly #tuning: SocketTuning | undefined;
  readonly #timeoutMs: number;
  readonly #redialMs: number;
  readonly #onFatal: (err: SwitchboardError) => void;
  readonly #taskListeners = new Set<TaskEventListener>();
  readonly #connectListeners = new Set<() => void>();
  #socket!: MonitorSocket;
  #everConnected = false;
  #closed = false;
  #redial: NodeJS.Timeout | undefined;
  /** Why each hub failed since the last success, for the error when none can be reached. */
  #failures: string[] = [];
  #settleReady: { resolve: () => void; reject: (err: SwitchboardError) => void } | undefined;

  constructor(opts: ConnectionOptions) {
    this.#hubs = new HubRotation(opts.urls, {
      delayMs: opts.tuning?.reconnectionDelay ?? 1000,
      delayMaxMs: opts.tuning?.reconnectionDelayMax ?? 5000,
      jitter: opts.tuning?.randomizationFactor ?? 0.5,
    });
    this.#token = opts.token;
    this.#tuning = opts.tuning;
    this.#timeoutMs = opts.timeoutMs;
    this.#redialMs = opts.tuning?.reconnectionDelay ?? 1000;
    this.#onFatal = opts.onFatal;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#settleReady = { resolve, reject };
    });
    // Nobody may be awaiting `ready` (a follow() that dials on its own); its failure reaches onFatal anyway.
    this.ready.catch(() => {});
    this.#dial();
  }

  /** The socket in use (a new one after a move to another hub). */
  get socket(): MonitorSocket {
    return this.#socket;
  }

  /** The hub the socket is connected to, or dialling. */
  get url(): string {
    return this.#hubs.current;
  }

  /** Every `task:event` the hub sends, on whichever socket is current. */
  onTaskEvent(listener: TaskEventListener): void {
    this.#taskListeners.add(listener);
  }

  offTaskEvent(listener: TaskEventListener): void {
    this.#taskListeners.delete(listener);
  }

  /** Each successful (re)connect, to the same hub or another. */
  onConnect(listener: () => void): void {
    this.#connectListeners.add(listener);
  }

  offConnect(listener: () => void): void {
    this.#connectListeners.delete(listener);
  }

  #dial(): void {
    const hub = this.#hubs.current;
    const url = hub + NAMESPACES.monitor;
    const several = this.#hubs.several;
    const socket: MonitorSocket = io(url, {
      auth: { token: this.#token },
      transports: ['websocket'],
      autoConnect: false,
      forceNew: true,
      ...this.#tuning,
      // With several hubs a lost connection goes to the next hub instead of waiting for this one.
      ...(several ? { reconnection: false } : {}),
    });
    this.#socket = socket;
    socket.on('task:event', (raw: unknown) => {
      for (const listener of [...this.#taskListeners]) listener(raw);
    });
    socket.on('connect', () => {
      this.#everConnected = true;
      this.#failures = [];
      this.#hubs.succeeded(hub);
      this.#settleReady?.resolve();
      for (const listener of [...this.#connectListeners]) listener();
    });
    socket.on('connect_error', (err) => {
      // A refused handshake (bad token...) leaves the socket inactive: no hub will take these settings.
      if (!socket.active) {
        this.#fail(errorFromConnect(err, url));
        return;
      }
      if (several) {
        this.#next(`${hub}: ${err.message}`);
        return;
      }
      // One hub: Socket.IO keeps redialling after a transport failure, but before the first success it
      // means the hub cannot be used with these settings.
      if (!this.#everConnected) this.#fail(errorFromConnect(err, url));
    });
    socket.on('disconnect', (reason) => {
      if (this.#closed || reason === 'io client disconnect') return;
      if (reason === 'io server disconnect') {
        this.#redial = setTimeout(() => socket.connect(), this.#redialMs);
        return;
      }
      if (several) this.#next(`${hub}: ${reason}`);
    });
    socket.connect();
  }

  /** The current hub failed or was lost: on to the next, at once within a round, after a backoff between rounds. */
  #next(why: string): void {
    if (this.#closed) return;
    this.#failures.push(why);
    this.#drop(this.#socket);
    const roundFailed = this.#hubs.advance();
    const attempts = this.#tuning?.reconnectionAttempts ?? Number.POSITIVE_INFINITY;
    if (roundFailed && (!this.#everConnected || this.#hubs.failedRounds > attempts)) {
      const tried = this.#failures.join('; ');
      this.#fail(new SwitchboardError('hub_unreachable', `Cannot connect to any hub: ${tried}`));
      return;
    }
    const delay = roundFailed ? this.#hubs.nextDelayMs() : 0;
    this.#redial = setTimeout(() => {
      if (!this.#closed) this.#dial();
    }, delay);
  }

  #drop(socket: MonitorSocket): void {
    socket.removeAllListeners();
    socket.disconnect();
  }

  get connected(): boolean {
    return this.#socket.connected;
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
      raw = await send(this.#socket.timeout(this.#timeoutMs));
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
    this.#taskListeners.clear();
    this.#connectListeners.clear();
    this.#drop(this.#socket);
  }

  #fail(err: SwitchboardError): void {
    if (this.#closed) return;
    this.#settleReady?.reject(err);
    this.close();
    this.#onFatal(err);
  }
}
