import type { Server as HttpServer } from 'node:http';
import { Server, type ServerOptions } from 'socket.io';
import type { Action } from '../auth/index.js';
import { bearer } from '../auth/index.js';
import type { HubContext } from '../context.js';
import { toHubError } from '../errors.js';
import { NAMESPACES } from '../protocol/index.js';
import { attachExtension, type ExtensionNamespace } from './extension.js';
import { attachMonitor, type MonitorNamespace } from './monitor.js';
import { attachRawWs } from './ws.js';

/** Socket.IO on the hub's HTTP server: auth on the handshake, the two namespaces, the raw ws endpoints. */
export function createIo(
  server: HttpServer,
  ctx: HubContext,
  cluster?: { adapter: ServerOptions['adapter']; close: () => void },
): { io: Server; close: () => Promise<void> } {
  const io = new Server(server, {
    // Cluster mode: rooms span the hub processes (cluster-adapter.ts); else the in-memory adapter.
    ...(cluster ? { adapter: cluster.adapter } : {}),
    // Above the app-level limits so an oversized message gets an error ack instead of a dropped connection.
    maxHttpBufferSize: Math.max(ctx.config.maxPayloadBytes * 4, 8 * 1024 * 1024),
    cors: { origin: true, credentials: true },
    // The raw ws endpoint shares the server; leave other upgrades alone.
    destroyUpgrade: false,
    connectionStateRecovery: undefined,
  });

  const gate =
    (action: Action) =>
    (
      socket: {
        handshake: {
          auth: Record<string, unknown>;
          headers: Record<string, string | string[] | undefined>;
          address: string;
        };
        data: Record<string, unknown>;
      },
      next: (err?: Error) => void,
    ) => {
      try {
        const fromAuth = socket.handshake.auth['token'];
        const header = socket.handshake.headers['authorization'];
        const token =
          typeof fromAuth === 'string' ? fromAuth : bearer(typeof header === 'string' ? header : undefined);
        const principal = ctx.auth.authenticate(token, socket.handshake.address);
        ctx.auth.require(principal, action);
        socket.data['principal'] = principal;
        next();
      } catch (err) {
        const e = toHubError(err);
        const out = new Error(e.message) as Error & { data?: unknown };
        out.data = e.toBody();
        next(out);
      }
    };

  const monitor = io.of(NAMESPACES.monitor) as MonitorNamespace;
  monitor.use(gate('read') as never);
  const detachMonitor = attachMonitor(monitor, ctx);

  const extension = io.of(NAMESPACES.extension) as ExtensionNamespace;
  extension.use(gate('register') as never);
  attachExtension(extension, ctx);

  const detachWs = attachRawWs(server, ctx);
  // Slow consumers: each /monitor socket has a send budget in packets and bytes (send-budget.ts).

  return {
    io,
    close: async () => {
      detachMonitor();
      detachWs();
      // Not io.close(): it would close the HTTP server that Fastify owns and closes itself. Local: with the
      // cluster adapter, a plain disconnectSockets would reach every process's sockets.
      io.local.disconnectSockets(true);
      io.engine.close();
      if (cluster) {
        for (const nsp of io._nsps.values()) void nsp.adapter.close();
        cluster.close();
      }
    },
  };
}
