import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { type Action, bearer, type Principal } from '../auth/index.js';
import type { HubContext } from '../context.js';
import type { ExtensionLink } from '../dispatch/link.js';
import { fromZodError, HubError, toHubError } from '../errors.js';
import type { ErrorBody } from '../protocol/common.js';
import {
  type ExtensionInfo,
  type HostLogEntry,
  type JobCancel,
  type JobRun,
  type JobRunAck,
  JobRunAck as JobRunAckSchema,
} from '../protocol/extension.js';
import type { TaskEvent } from '../protocol/tasks.js';
import { WS_PATHS, WsFrame } from '../protocol/ws.js';
import { RUN_ACK_MS } from './extension.js';
import { ExtensionSession } from './extension-session.js';
import { type HandlerTable, runHandler, whenHandled } from './handler.js';
import { hostLogHandlers, type LogPeer } from './host-log-handlers.js';
import { type MonitorPeer, monitorHandlers } from './monitor-session.js';
import type { SendLimits } from './send-budget.js';
import { waitingNote } from './waiting-note.js';

const TEXT_FRAME = { binary: false } as const;

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

/** One raw WebSocket speaking the contract as JSON frames; requests to the client await its `ack` frame. */
class WsPeer {
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  /** Frames handed to ws and not yet written to the kernel: the packet side of the send budget. */
  private inFlight = 0;
  private dropped = false;
  private readonly onSent = () => {
    this.inFlight -= 1;
  };

  constructor(
    readonly ws: WebSocket,
    private readonly limits: SendLimits,
  ) {}

  /** Runs `fn` once the send queue is below half its budget; never if the peer is dropped first. */
  whenDrained(fn: () => void): void {
    const check = () => {
      if (this.dropped || this.ws.readyState !== this.ws.OPEN) return;
      if (this.ws.bufferedAmount <= this.limits.bytes / 2 && this.inFlight < this.limits.packets / 2)
        setImmediate(fn);
      else setTimeout(check, 10);
    };
    check();
  }

  send(event: string, data: unknown): void {
    this.write({ type: 'event', event, data });
  }

  request(event: string, data: unknown, timeoutMs: number): Promise<unknown> {
    const id = `h${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no ack for ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.write({ type: 'event', event, id, data });
    });
  }

  answered(id: string | number, data: unknown): void {
    const p = this.pending.get(String(id));
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(String(id));
    p.resolve(data);
  }

  write(frame: WsFrame | { type: 'ack'; id: string | number; data: unknown }): void {
    this.writeRaw(JSON.stringify(frame));
  }

  /**
   * Sends an already encoded frame, as text. A broadcast encodes once for every peer, to UTF-8 bytes too, so
   * ws has nothing left to convert per peer.
   */
  writeRaw(text: string | Buffer): void {
    if (this.dropped || this.ws.readyState !== this.ws.OPEN) return;
    // A reader this far behind is dropped; it reconnects and resumes by seq.
    const over =
      this.inFlight >= this.limits.packets
        ? `send queue over ${this.limits.packets} frames`
        : this.ws.bufferedAmount + text.length > this.limits.bytes
          ? `send queue over ${this.limits.bytes} bytes`
          : null;
    if (over) {
      this.dropped = true;
      // terminate, not close: a reader that stopped cannot take a closing handshake, and what it has not read
      // is freed now. The close code and reason are for readers that are merely slow.
      this.ws.close(1013, `${over}: reading too slowly; reconnect and resume by seq`);
      setTimeout(() => this.ws.terminate(), 1_000).unref();
      return;
    }
    this.inFlight += 1;
    if (typeof text === 'string') this.ws.send(text, this.onSent);
    else this.ws.send(text, TEXT_FRAME, this.onSent);
  }

  closed(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('connection closed'));
    }
    this.pending.clear();
  }
}

class WsLink implements ExtensionLink {
  readonly transport = 'ws' as const;
  constructor(private readonly peer: WsPeer) {}

  async runJob(job: JobRun): Promise<JobRunAck> {
    const ack = JobRunAckSchema.safeParse(await this.peer.request('job:run', job, RUN_ACK_MS));
    return ack.success
      ? ack.data
      : { accepted: false, reason: 'the extension answered job:run with a malformed ack' };
  }

  cancelJob(msg: JobCancel): void {
    this.peer.send('job:cancel', msg);
  }

  close(reason: string): void {
    this.peer.send('hub:error', { code: 'conflict', message: reason });
    this.peer.ws.close(4009, reason.slice(0, 120));
  }
}

/**
 * A task event as a ws frame, encoded once however many raw ws monitors watch the task: every listener of a
 * broadcast gets the same event object, so the frame is cached on it.
 */
const frames = new WeakMap<TaskEvent, Buffer>();
function eventFrame(e: TaskEvent): Buffer {
  let bytes = frames.get(e);
  if (bytes === undefined) {
    bytes = Buffer.from(JSON.stringify({ type: 'event', event: 'task:event', data: e }));
    frames.set(e, bytes);
  }
  return bytes;
}

/**
 * The raw ws monitors watching each task, like Socket.IO's rooms: one task listener per watched task, and each
 * event encoded once for all of them.
 */
class WsRooms {
  private readonly rooms = new Map<string, { peers: Set<WsPeer>; off: () => void }>();
  constructor(private readonly tasks: HubContext['tasks']) {}

  join(taskId: string, peer: WsPeer): void {
    let room = this.rooms.get(taskId);
    if (!room) {
      const peers = new Set<WsPeer>();
      const off = this.tasks.subscribeTask(taskId, (e) => {
        const frame = eventFrame(e);
        for (const p of peers) p.writeRaw(frame);
      });
      room = { peers, off };
      this.rooms.set(taskId, room);
    }
    room.peers.add(peer);
  }

  leave(taskId: string, peer: WsPeer): void {
    const room = this.rooms.get(taskId);
    if (!room?.peers.delete(peer) || room.peers.size) return;
    room.off();
    this.rooms.delete(taskId);
  }
}

/**
 * A raw ws `/monitor` connection as the shared monitor and host-log handlers see it: methods, not closures,
 * and its task and feed subscriptions created on first use.
 */
class WsMonitorPeer extends WsPeer implements MonitorPeer, LogPeer {
  logFollows?: Map<string, () => void>;
  private watching?: Set<string>;
  private feed?: Array<() => void>;

  constructor(
    ws: WebSocket,
    limits: SendLimits,
    private readonly ctx: HubContext,
    private readonly rooms: WsRooms,
    readonly principal: Principal,
  ) {
    super(ws, limits);
  }

  sendEvent(e: TaskEvent): void {
    this.writeRaw(eventFrame(e));
  }
  watchTask(id: string): void {
    this.watching ??= new Set();
    if (this.watching.has(id)) return;
    this.watching.add(id);
    this.rooms.join(id, this);
  }
  unwatchTask(id: string): void {
    if (!this.watching?.delete(id)) return;
    this.rooms.leave(id, this);
  }
  joinFeed(): void {
    if (this.feed) return;
    const presence = (extension: ExtensionInfo, online: boolean) =>
      this.send('extension:presence', { extension, online });
    // With `remote`, cluster mode: the tasks and hosts of the other hub processes as well.
    this.feed = [
      this.ctx.tasks.onSummary((s) => this.send('task:summary', s), { remote: true }),
      this.ctx.tasks.onEvent(
        (e) => {
          const note = waitingNote(e);
          if (note) this.send('task:waiting', note);
        },
        { remote: true },
      ),
      this.ctx.registry.onPresence(presence),
      ...(this.ctx.changeFeed ? [this.ctx.changeFeed.onRemotePresence(presence)] : []),
    ];
  }
  leaveFeed(): void {
    for (const off of this.feed ?? []) off();
    this.feed = undefined;
  }
  sendLog(line: HostLogEntry): void {
    this.send('extension:log', line);
  }
  onceClosed(fn: () => void): void {
    if (this.ws.readyState === this.ws.CLOSED) fn();
    else this.ws.once('close', fn);
  }
  override closed(): void {
    super.closed();
    for (const id of this.watching ?? []) this.rooms.leave(id, this);
    this.watching = undefined;
    this.leaveFeed();
  }
}

const PEER = Symbol('monitorPeer');
type PeeredWs = WebSocket & { [PEER]: WsMonitorPeer };

function serve(ctx: HubContext, peer: WsPeer, principal: Principal, table: HandlerTable, raw: string): void {
  const sendError = (body: ErrorBody) => peer.send('hub:error', body);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    sendError(new HubError('bad_request', 'frame: not valid JSON', { field: 'frame' }).toBody());
    return;
  }
  const frame = WsFrame.safeParse(json);
  if (!frame.success) {
    sendError(fromZodError(frame.error, 'frame').toBody());
    return;
  }
  if (frame.data.type === 'ack') {
    peer.answered(frame.data.id, frame.data.data);
    return;
  }
  const { id, event, data } = frame.data;
  // The answer waits for this tick's commit when it changed a task's status: told means on disk.
  whenHandled(runHandler(ctx, principal, table, event, data, peer), ({ res, after }) =>
    ctx.tasks.afterCommit(() => {
      if (id !== undefined) peer.write({ type: 'ack', id, data: res });
      else if (!res.ok) sendError(res.error);
      after?.();
    }),
  );
}

function refuse(socket: Duplex, status: number, body: ErrorBody): void {
  const text = JSON.stringify({ error: body });
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
}

/** Raw WebSocket endpoints for hosts and clients without Socket.IO: the same contract as JSON frames. */
export function attachRawWs(server: HttpServer, ctx: HubContext): () => void {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: Math.max(ctx.config.maxPayloadBytes * 4, 8 << 20),
  });
  const limits = { packets: ctx.config.subscriberQueueLimit, bytes: ctx.config.subscriberQueueBytes };
  // One table and two listeners (ws calls them with the socket as `this`) for every monitor connection.
  const monitorTable = { ...monitorHandlers(ctx), ...hostLogHandlers(ctx) };
  const rooms = new WsRooms(ctx.tasks);
  function onMonitorMessage(this: WebSocket, d: RawData): void {
    const peer = (this as PeeredWs)[PEER];
    serve(ctx, peer, peer.principal, monitorTable, d.toString());
  }
  function onMonitorClose(this: WebSocket): void {
    (this as PeeredWs)[PEER].closed();
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    const kind =
      url.pathname === WS_PATHS.extension
        ? 'extension'
        : url.pathname === WS_PATHS.monitor
          ? 'monitor'
          : null;
    if (!kind) return; // Socket.IO's own upgrades, or nothing we serve
    let principal: Principal;
    try {
      const token = bearer(req.headers.authorization) ?? url.searchParams.get('token');
      principal = ctx.auth.authenticate(token, req.socket.remoteAddress);
      ctx.auth.require(principal, (kind === 'extension' ? 'register' : 'read') satisfies Action);
    } catch (err) {
      const e = toHubError(err);
      refuse(socket, e.status, e.toBody());
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (kind === 'extension') {
        const peer = new WsPeer(ws, limits);
        const session = new ExtensionSession(ctx, principal, new WsLink(peer));
        ws.on('message', (d) => serve(ctx, peer, principal, session.handlers, d.toString()));
        ws.on('close', (code) => {
          peer.closed();
          session.closed(`disconnected (ws close ${code})`, code === 1000 || code === 1001);
        });
      } else {
        (ws as PeeredWs)[PEER] = new WsMonitorPeer(ws, limits, ctx, rooms, principal);
        ws.on('message', onMonitorMessage);
        ws.on('close', onMonitorClose);
      }
    });
  };
  server.on('upgrade', onUpgrade);
  return () => {
    server.off('upgrade', onUpgrade);
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  };
}
