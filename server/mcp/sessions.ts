import { randomUUID } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Principal } from '../auth/index.js';
import type { HubContext } from '../context.js';
import { HubError } from '../errors.js';
import type { Role } from '../protocol/common.js';
import { SessionEventStore } from './event-store.js';
import { createSessionServer } from './server.js';
import type { ToolCatalog } from './tools/index.js';

export interface McpSession {
  readonly id: string;
  /** The role that opened the session; every later request must come with it. */
  readonly role: Role;
  readonly transport: StreamableHTTPServerTransport;
  readonly server: Server;
  readonly events: SessionEventStore;
  /** HTTP requests in flight (an open SSE stream counts until it closes). */
  open: number;
  lastSeen: number;
}

/**
 * The MCP sessions of one hub: opened by an initialize request, ended by DELETE, by idling past
 * SWITCHBOARD_MCP_SESSION_IDLE_S with no request open, or by the hub closing. Ending a session aborts its
 * calls in flight, which cancels their tasks (except at hub shutdown, where tasks are left to recovery).
 */
export class McpSessions {
  private readonly sessions = new Map<string, McpSession>();
  private readonly sweeper: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    private readonly hub: HubContext,
    private readonly catalog: ToolCatalog,
  ) {
    const idleMs = hub.config.mcpSessionIdleS * 1000;
    if (idleMs > 0) {
      this.sweeper = setInterval(() => this.sweep(idleMs), Math.min(idleMs, 60_000));
      this.sweeper.unref();
    }
  }

  get size(): number {
    return this.sessions.size;
  }

  get shuttingDown(): boolean {
    return this.closing;
  }

  get(id: string): McpSession | undefined {
    return this.sessions.get(id);
  }

  /** A new session for an initialize request; it joins the table once the transport has given it an id. */
  async open(principal: Principal): Promise<McpSession> {
    if (this.closing) throw new HubError('conflict', 'the hub is shutting down');
    if (this.sessions.size >= this.hub.config.mcpMaxSessions) {
      throw new HubError(
        'rate_limited',
        `too many MCP sessions open (${this.hub.config.mcpMaxSessions}); end one with DELETE /mcp`,
      );
    }
    const events = new SessionEventStore();
    let session: McpSession | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: events,
      // Tells clients how soon to reconnect a stream the server closed on purpose.
      retryInterval: 1000,
      onsessioninitialized: (id) => {
        if (session) this.sessions.set(id, Object.assign(session, { id }));
      },
    });
    const server = createSessionServer({
      hub: this.hub,
      principal,
      catalog: this.catalog,
      shuttingDown: () => this.closing,
    });
    // Protocol.close -> transport closes -> here: forget the session (DELETE, sweep or shutdown alike).
    server.onclose = () => {
      if (session?.id) this.sessions.delete(session.id);
    };
    server.onerror = (err) => this.hub.logger.debug({ err }, 'mcp session error');
    session = {
      id: '',
      role: principal.role,
      transport,
      server,
      events,
      open: 0,
      lastSeen: Date.now(),
    };
    await server.connect(transport);
    return session;
  }

  /** Ends every session; their calls' tasks keep running (a restart's recovery decides their fate). */
  async close(): Promise<void> {
    this.closing = true;
    if (this.sweeper) clearInterval(this.sweeper);
    await Promise.all([...this.sessions.values()].map((s) => s.server.close().catch(() => undefined)));
    this.sessions.clear();
  }

  private sweep(idleMs: number): void {
    const cutoff = Date.now() - idleMs;
    for (const s of [...this.sessions.values()]) {
      if (s.open === 0 && s.lastSeen < cutoff) {
        this.hub.logger.info({ mcpSession: s.id, role: s.role }, 'mcp session idle; closed');
        void s.server.close().catch(() => undefined);
      }
    }
  }
}
