import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearer, type Principal } from '../auth/index.js';
import type { HubContext } from '../context.js';
import { HubError, toHubError } from '../errors.js';
import { type McpSession, McpSessions } from './sessions.js';
import { ToolCatalog } from './tools/index.js';
import type { McpToolSource } from './types.js';

export const MCP_PATH = '/mcp';

export interface McpOptions {
  /** Extra tool contributors (the plugin subsystem's tools, ...). */
  tools?: readonly McpToolSource[];
}

export interface McpEndpoint {
  readonly sessions: McpSessions;
  close(): Promise<void>;
}

/** A JSON-RPC error answered over plain HTTP (no session to carry it): the catalogue's body goes in `data`. */
function rpcError(reply: FastifyReply, status: number, rpcCode: number, err: HubError) {
  return reply
    .code(status)
    .send({ jsonrpc: '2.0', error: { code: rpcCode, message: err.message, data: err.toBody() }, id: null });
}

/**
 * The hub's MCP server: streamable HTTP at /mcp (POST messages, GET the standalone SSE stream or resume
 * one with Last-Event-ID, DELETE to end the session), with stateful sessions. Every request carries a bearer
 * token; the extension role is refused outright, and each tool checks the caller's role for its action.
 */
export function mcpRoutes(app: FastifyInstance, ctx: HubContext, opts: McpOptions = {}): McpEndpoint {
  const sessions = new McpSessions(ctx, new ToolCatalog(ctx, opts.tools ?? []));

  const authenticate = async (req: FastifyRequest, reply: FastifyReply) => {
    let principal: Principal;
    try {
      principal = ctx.auth.authenticate(bearer(req.headers.authorization), req.ip);
    } catch (err) {
      if (toHubError(err).code === 'unauthorized')
        reply.header('www-authenticate', 'Bearer realm="switchboard"');
      throw err;
    }
    if (principal.role === 'extension') {
      throw new HubError('forbidden', 'role "extension" may not use the MCP endpoint');
    }
    ctx.auth.charge(principal);
    req.principal = principal;
  };

  /** Hands the raw request to the session's transport; Fastify lets go of the reply (SSE streams stay open). */
  const handOver = async (session: McpSession, req: FastifyRequest, reply: FastifyReply) => {
    session.open += 1;
    session.lastSeen = Date.now();
    reply.raw.once('close', () => {
      session.open -= 1;
      session.lastSeen = Date.now();
    });
    reply.hijack();
    try {
      await session.transport.handleRequest(req.raw, reply.raw, req.body);
    } catch (err) {
      ctx.logger.warn({ err, mcpSession: session.id }, 'mcp request failed');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        const body = new HubError('internal').toBody();
        reply.raw.end(
          JSON.stringify({
            jsonrpc: '2.0',
            error: { code: -32603, message: body.message, data: body },
            id: null,
          }),
        );
      }
    }
  };

  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: MCP_PATH,
    onRequest: authenticate,
    schema: {
      tags: ['mcp'],
      summary:
        'MCP server (streamable HTTP): POST JSON-RPC, GET the SSE stream (Last-Event-ID resumes), DELETE ends the session',
    },
    handler: async (req, reply) => {
      const principal = req.principal as Principal;
      const header = req.headers['mcp-session-id'];
      const sessionId = Array.isArray(header) ? header[0] : header;
      if (sessionId) {
        const session = sessions.get(sessionId);
        if (!session) {
          // 404 tells a client to start a new session (the MCP spec's rule for an unknown session).
          const err = new HubError(
            'not_found',
            `mcp-session-id: no MCP session ${sessionId}; initialize a new one`,
            {
              field: 'mcp-session-id',
            },
          );
          return rpcError(reply, 404, -32001, err);
        }
        if (session.role !== principal.role) {
          return rpcError(
            reply,
            403,
            -32003,
            new HubError('forbidden', 'this MCP session was opened with another role'),
          );
        }
        return handOver(session, req, reply);
      }
      if (req.method === 'POST' && isInitializeRequest(req.body)) {
        let session: McpSession;
        try {
          session = await sessions.open(principal);
        } catch (err) {
          const hub = toHubError(err);
          return rpcError(reply, hub.status, -32000, hub);
        }
        return handOver(session, req, reply);
      }
      const err = new HubError(
        'bad_request',
        'mcp-session-id: required; open a session with an initialize request',
        {
          field: 'mcp-session-id',
        },
      );
      return rpcError(reply, 400, -32000, err);
    },
  });

  return { sessions, close: () => sessions.close() };
}
