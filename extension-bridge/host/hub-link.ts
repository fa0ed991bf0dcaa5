import { io, type Socket } from 'socket.io-client';
import type { z } from 'zod';
import { HubRotation } from '../../client/core/hubs.js';
import {
  ErrorBody,
  type ExtensionClientEvents,
  type ExtensionClientToServer,
  type ExtensionServerToClient,
  type JobResult,
  type JobRunAck,
  NAMESPACES,
  type Register,
  type Registered,
} from '../../server/protocol/index.js';
import { Outbox } from './outbox.js';
import type { OutputStream } from './python-runner.js';

export interface HubLinkOptions {
  /** One hub, or several processes of one scaled-out hub: on loss the link moves to the next. */
  urls: readonly string[];
  token: string;
  ackTimeoutMs: number;
  /** Overrides the heartbeat period from the hub's `Registered`. */
  heartbeatMs?: number;
  /** `Infinity` waits for the hub for ever. */
  startTimeoutMs: number;
  maxQueuedOutputChars: number;
  /** The host secret from an earlier run (see `LinkHost.secretIssued`). */
  secret?: string;
}

export type ConnectionState = 'connected' | 'disconnected' | 'refused';

/** What the link needs from the host, and what it tells it. */
export interface LinkHost {
  /** The registration to send now; `running` = jobs still running. The link fills in `id`. */
  registration(): Register;
  runningIds(): string[];
  jobRun(payload: unknown, ack: (reply: JobRunAck) => void): void;
  jobCancel(payload: unknown): void;
  registered(registered: Registered, reconnect: boolean): void;
  connection(state: ConnectionState, detail: string): void;
  warning(message: string): void;
  /** The hub issued this host its secret (first registration of its id): keep it for later runs. */
  secretIssued(secret: string): void;
}

type HubSocket = Socket<ExtensionServerToClient, ExtensionClientToServer>;
type RegisterAck = z.infer<typeof ExtensionClientEvents.register.ack>;
type Ack = { ok: true } | { ok: false; error: { code: string; message: string } };
const MAX_RUNNING = 64;

/**
 * The host's connection to the hub's `/extension` namespace: registers on every connect, heartbeats,
 * sends job events in order (queued while unregistered), and keeps each result until the hub acks it.
 * Given several hubs, a lost connection (or a failed dial) moves on to the next hub at once, and waits
 * (doubling, with jitter) only after every hub failed in a row; the next hub sees the same registration
 * (id, secret, running jobs), then the output and results held meanwhile.
 */
export class HubLink {
  private socket!: HubSocket;
  private readonly hubs: HubRotation;
  private readonly outbox: Outbox<HubSocket>;
  /** Results not acked yet: sent again after each registration. */
  private readonly unreported = new Map<string, JobResult>();
  private readonly dropped = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | undefined;
  private starting: { resolve: (r: Registered) => void; reject: (e: Error) => void } | undefined;
  private closed = false;
  private replacedBy: string | undefined;
  extensionId: string | undefined;
  /** Protocol features the hub offered in its last registration. */
  private features = new Set<string>();
  /** Proves to the hub that this host owns its id; presented on every registration. */
  private secret: string | undefined;

  constructor(
    private readonly options: HubLinkOptions,
    private readonly host: LinkHost,
  ) {
    this.outbox = new Outbox(options.maxQueuedOutputChars);
    this.secret = options.secret;
    this.hubs = new HubRotation(options.urls, { delayMs: 500, delayMaxMs: 2_000, jitter: 0.5 });
    this.dial();
  }

  /** The hub in use, or being dialled. */
  get url(): string {
    return this.hubs.current;
  }

  private dial(): void {
    const { host } = this;
    const url = this.hubs.current;
    const several = this.hubs.several;
    const socket: HubSocket = io(url + NAMESPACES.extension, {
      auth: { token: this.options.token },
      transports: ['websocket'],
      reconnectionDelayMax: 2_000,
      autoConnect: false,
      forceNew: true,
      // With several hubs a lost connection goes to the next hub instead of waiting for this one.
      ...(several ? { reconnection: false } : {}),
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.replacedBy = undefined;
      this.hubs.succeeded(url);
      host.connection('connected', url);
      void this.register();
    });
    socket.on('disconnect', (reason) => {
      this.outbox.close();
      clearInterval(this.heartbeat);
      if (reason !== 'io server disconnect') {
        host.connection('disconnected', several ? `${url}: ${reason}` : reason);
        if (several && reason !== 'io client disconnect') this.next();
        return;
      }
      // Dropped because another connection registered our id: coming back would drop that one in turn.
      if (this.replacedBy) return host.connection('refused', this.replacedBy);
      // Dropped on purpose otherwise; Socket.IO leaves reconnecting to the application.
      host.connection('disconnected', reason);
      this.later(1_000, () => socket.connect());
    });
    socket.on('connect_error', (err) => {
      // Not `active`: the hub refused the handshake (bad token...) and Socket.IO will not retry.
      if (!socket.active) {
        host.connection('refused', err.message);
        return this.failStart(new Error(`hub refused the connection: ${err.message}`));
      }
      host.connection('disconnected', `connect failed: ${several ? `${url}: ` : ''}${err.message}`);
      if (several) this.next();
    });
    socket.on('job:run', (payload, ack) => host.jobRun(payload, ack));
    socket.on('job:cancel', (payload) => host.jobCancel(payload));
    socket.on('hub:error', (payload) => {
      const error = ErrorBody.safeParse(payload);
      if (!error.success) return host.warning(`malformed hub:error: ${JSON.stringify(payload)}`);
      if (error.data.code === 'conflict') this.replacedBy = error.data.message;
      host.warning(`hub error: ${error.data.code}: ${error.data.message}`);
    });
  }

  /** This hub is gone or cannot be reached: on to the next, at once within a round, with backoff between. */
  private next(): void {
    if (this.closed) return;
    const old = this.socket;
    old.removeAllListeners();
    old.disconnect();
    const roundFailed = this.hubs.advance();
    const delay = roundFailed ? this.hubs.nextDelayMs() : 0;
    this.later(delay, () => {
      if (this.socket !== old) return;
      this.dial();
      this.socket.connect();
    });
  }

  /** Connects; resolves with the first registration, rejects if refused or not registered in time. */
  connect(): Promise<Registered> {
    const registered = new Promise<Registered>((resolve, reject) => {
      const { startTimeoutMs: ms } = this.options;
      const timer =
        Number.isFinite(ms) && ms > 0
          ? setTimeout(() => this.failStart(new Error(`not registered after ${ms} ms`)), ms)
          : undefined;
      this.starting = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
    this.socket.connect();
    return registered;
  }

  close(): void {
    this.closed = true;
    this.failStart(new Error('host stopped'));
    clearInterval(this.heartbeat);
    this.outbox.close();
    this.outbox.clear();
    this.socket.disconnect();
  }

  /** `attempt` (from job:run) lets the hub drop reports about an attempt it has since replaced. */
  sendStarted(taskId: string, attempt: number): void {
    this.outbox.post((socket) =>
      socket.timeout(this.options.ackTimeoutMs).emit('job:started', { taskId, attempt }, (err, ack) => {
        this.checkAck('job:started', err, ack);
      }),
    );
  }

  /** Says a stopped job's process will not go: the hub keeps the slot busy until its result comes. */
  sendStuck(taskId: string, attempt: number, message: string): void {
    this.outbox.post((socket) =>
      socket
        .timeout(this.options.ackTimeoutMs)
        .emit('job:stuck', { taskId, attempt, message }, (err, ack) => {
          this.checkAck('job:stuck', err, ack);
        }),
    );
  }

  /** Sends a chunk of output; while the hub is unreachable it is queued, or counted as dropped. */
  sendOutput(taskId: string, attempt: number, stream: OutputStream, text: string): void {
    const send = (body: string, to: OutputStream) => (socket: HubSocket) =>
      socket
        .timeout(this.options.ackTimeoutMs)
        .emit('job:output', { taskId, attempt, stream: to, text: body }, (err, ack) => {
          this.checkAck('job:output', err, ack);
        });
    if (this.outbox.post(send(text, stream), text.length)) return;
    const before = this.dropped.get(taskId) ?? 0;
    this.dropped.set(taskId, before + text.length);
    if (before > 0) return;
    // Say where the gap is, once per gap.
    this.outbox.post((socket) => {
      const count = this.dropped.get(taskId) ?? 0;
      this.dropped.delete(taskId);
      send(
        `\n[host: ${count} characters of output dropped while the hub was unreachable]\n`,
        'stderr',
      )(socket);
    });
  }

  /** Sends the result now if registered, else after the next registration; again until the hub acks it. */
  sendResult(result: JobResult): void {
    this.unreported.set(result.taskId, result);
    if (this.outbox.isOpen) this.emitResult(result);
  }

  /** Whether the hub offered a protocol feature (e.g. `result-report`) when this host last registered. */
  supports(feature: string): boolean {
    return this.features.has(feature);
  }

  /** The attempt whose result for the task waits for the hub's ack, if any. */
  pendingResultAttempt(taskId: string): number | undefined {
    const pending = this.unreported.get(taskId);
    return pending ? (pending.attempt ?? 0) : undefined;
  }

  private emitResult(folded: JobResult): void {
    let result = folded;
    if (result.output && !this.supports('result-report')) {
      // Folded for a hub that offered `result-report`, sent to one that did not (a reconnect to another
      // hub): the start and output as separate reports first, in order.
      const { output, ...rest } = result;
      const { taskId, attempt } = rest;
      const s = this.socket.timeout(this.options.ackTimeoutMs);
      s.emit('job:started', { taskId, attempt }, (err, ack) => this.checkAck('job:started', err, ack));
      for (const o of output)
        s.emit('job:output', { taskId, attempt, ...o }, (err, ack) => this.checkAck('job:output', err, ack));
      result = rest;
    }
    this.socket.timeout(this.options.ackTimeoutMs).emit('job:result', result, (err, ack) => {
      if (err)
        return this.host.warning(`job:result ${result.taskId}: ${err.message} (sent again on reconnect)`);
      this.unreported.delete(result.taskId);
      this.checkAck('job:result', null, ack);
    });
  }

  private async register(): Promise<void> {
    const socket = this.socket;
    const payload = this.host.registration();
    if (this.extensionId) payload.id = this.extensionId;
    if (this.secret) payload.secret = this.secret;
    // Finished jobs whose result is not acked yet count as running: their result follows at once.
    payload.running = [...(payload.running ?? []), ...this.unreported.keys()].slice(0, MAX_RUNNING);
    let ack: RegisterAck;
    try {
      ack = await socket.timeout(this.options.ackTimeoutMs).emitWithAck('register', payload);
    } catch (err) {
      if (socket !== this.socket) return; // moved to another hub meanwhile: that connection registers
      this.host.warning(`register: ${(err as Error).message}`);
      return this.retryRegister();
    }
    if (socket !== this.socket) return;
    if (!ack.ok) {
      const error = new Error(`hub rejected register: ${ack.error.code}: ${ack.error.message}`);
      if (this.starting) return this.failStart(error);
      this.host.warning(error.message);
      return this.retryRegister();
    }
    const registered = ack.data;
    if (registered.hostSecret) {
      this.secret = registered.hostSecret;
      this.host.secretIssued(registered.hostSecret);
    }
    const reconnect = this.extensionId !== undefined;
    this.extensionId = registered.extensionId;
    this.features = new Set(registered.features ?? []);
    this.startHeartbeat(this.options.heartbeatMs ?? registered.heartbeatMs);
    this.outbox.open(this.socket);
    for (const result of this.unreported.values()) this.emitResult(result);
    this.host.registered(registered, reconnect);
    this.starting?.resolve(registered);
    this.starting = undefined;
  }

  private retryRegister(): void {
    this.later(2_000, () => {
      if (this.socket.connected && !this.outbox.isOpen) void this.register();
    });
  }

  private startHeartbeat(periodMs: number): void {
    clearInterval(this.heartbeat);
    if (periodMs <= 0) return;
    this.heartbeat = setInterval(() => {
      const running = this.host.runningIds().slice(0, MAX_RUNNING);
      this.socket.timeout(this.options.ackTimeoutMs).emit('heartbeat', { running }, (err, ack) => {
        this.checkAck('heartbeat', err, ack);
      });
    }, periodMs);
  }

  private checkAck(event: string, err: Error | null, ack: Ack | undefined): void {
    if (err) this.host.warning(`${event}: ${err.message}`);
    else if (ack && !ack.ok) this.host.warning(`${event} rejected: ${ack.error.code}: ${ack.error.message}`);
  }

  private later(ms: number, fn: () => void): void {
    setTimeout(() => {
      if (!this.closed) fn();
    }, ms).unref();
  }

  private failStart(error: Error): void {
    if (!this.starting) return;
    this.starting.reject(error);
    this.starting = undefined;
    this.socket.disconnect();
  }
}
