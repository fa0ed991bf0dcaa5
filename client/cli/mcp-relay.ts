import type { Readable, Writable } from 'node:stream';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  InitializeResultSchema,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';

export interface RelayOptions {
  /** Hub base URL (http or https). */
  hub: string;
  token: string;
  stdin: Readable;
  stdout: Writable;
  /** Diagnostics (stderr): stdout carries JSON-RPC only. */
  log: (line: string) => void;
}

/** What a client is told when the hub could not be asked at all (JSON-RPC's implementation-defined range). */
const RPC_HUB_UNREACHABLE = -32000;

function describe(err: unknown): string {
  if (err instanceof StreamableHTTPError) {
    if (err.code === 401) return `the hub refused the token (HTTP 401): ${err.message}`;
    if (err.code === 403) return `the token's role may not use MCP (HTTP 403): ${err.message}`;
    return `the hub answered HTTP ${err.code ?? '?'}: ${err.message}`;
  }
  return `the hub is unreachable: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * `switchboard mcp`: an MCP server on stdio for clients that only launch processes, relaying every JSON-RPC
 * message unchanged to the hub's /mcp over streamable HTTP and back. Relaying messages (rather than
 * re-serving tools through a second SDK server) keeps everything the hub does: its tool list as it changes,
 * progress and logging notifications in order, `notifications/cancelled` reaching the hub (which cancels the
 * task), resources, and the SDK transport's own resumption with Last-Event-ID when a stream drops.
 * Resolves with the exit code once stdin ends.
 */
export async function runMcpRelay(opts: RelayOptions): Promise<number> {
  const base = opts.hub.endsWith('/') ? opts.hub : `${opts.hub}/`;
  const up = new StreamableHTTPClientTransport(new URL('mcp', base), {
    requestInit: { headers: { authorization: `Bearer ${opts.token}` } },
    reconnectionOptions: {
      initialReconnectionDelay: 500,
      maxReconnectionDelay: 10_000,
      reconnectionDelayGrowFactor: 1.5,
      maxRetries: 10,
    },
  });
  const down = new StdioServerTransport(opts.stdin, opts.stdout);
  const initializeIds = new Set<string | number>();

  const toClient = (message: JSONRPCMessage) =>
    down.send(message).catch((err: unknown) => opts.log(`switchboard mcp: stdout: ${String(err)}`));

  up.onmessage = (message) => {
    if (isJSONRPCResultResponse(message) && initializeIds.delete(message.id)) {
      // The SDK client does this after initialize; here the relay is the client of the hub.
      const init = InitializeResultSchema.safeParse(message.result);
      if (init.success) up.setProtocolVersion(init.data.protocolVersion);
    }
    void toClient(message);
  };
  up.onerror = (err) => opts.log(`switchboard mcp: ${describe(err)}`);

  down.onmessage = (message) => {
    if (isJSONRPCRequest(message) && message.method === 'initialize') initializeIds.add(message.id);
    up.send(message).catch((err: unknown) => {
      const text = describe(err);
      opts.log(`switchboard mcp: ${text}`);
      // A request must get an answer, or the client waits for ever.
      if (isJSONRPCRequest(message)) {
        void toClient({
          jsonrpc: '2.0',
          id: message.id,
          error: { code: RPC_HUB_UNREACHABLE, message: text },
        });
      }
    });
  };
  down.onerror = (err) => opts.log(`switchboard mcp: bad input on stdin: ${err.message}`);

  const ended = new Promise<void>((resolve) => {
    opts.stdin.once('end', resolve);
    opts.stdin.once('close', resolve);
  });
  await up.start();
  await down.start();
  await ended;
  // The client is gone: end the hub session (its calls still running are cancelled), then stop.
  await up.terminateSession().catch(() => undefined);
  await up.close();
  await down.close();
  return 0;
}
