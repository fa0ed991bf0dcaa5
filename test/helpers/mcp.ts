import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  type CallToolResult,
  LoggingMessageNotificationSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';

/** What a client saw, in arrival order: notifications and tool results (so tests can check their order). */
export type Seen =
  | { kind: 'log'; logger: string | undefined; level: string; data: Record<string, unknown> }
  | { kind: 'progress'; message: string | undefined }
  | { kind: 'result'; tool: string };

export interface McpTestClient {
  client: Client;
  transport: StreamableHTTPClientTransport;
  seen: Seen[];
  /** Output text streamed so far (every `stdout`/`stderr` logging notification, joined). */
  streamed(): string;
  /** Calls a tool with a progress token; records the result in `seen` when it arrives. */
  call(name: string, args: Record<string, unknown>, opts?: { signal?: AbortSignal }): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** Wraps a connected SDK client so it records notifications and results in order. */
export function recording(client: Client, transport: StreamableHTTPClientTransport): McpTestClient {
  const seen: Seen[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    seen.push({
      kind: 'log',
      logger: n.params.logger,
      level: n.params.level,
      data: n.params.data as Record<string, unknown>,
    });
  });
  return {
    client,
    transport,
    seen,
    streamed: () =>
      seen
        .map((s) =>
          s.kind === 'log' && (s.logger === 'stdout' || s.logger === 'stderr') ? String(s.data['text']) : '',
        )
        .join(''),
    async call(name, args, opts = {}) {
      const result = (await client.callTool({ name, arguments: args }, undefined, {
        onprogress: (p) => seen.push({ kind: 'progress', message: p.message }),
        resetTimeoutOnProgress: true,
        timeout: 60_000,
        ...(opts.signal ? { signal: opts.signal } : {}),
      })) as CallToolResult;
      seen.push({ kind: 'result', tool: name });
      return result;
    },
    close: () => client.close(),
  };
}

/** The official SDK client over streamable HTTP, connected to the hub's /mcp with a bearer token. */
export async function mcpHttpClient(
  hubUrl: string,
  token: string | null,
  opts: { sessionId?: string } = {},
): Promise<McpTestClient> {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', hubUrl), {
    requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} },
    ...(opts.sessionId ? { sessionId: opts.sessionId } : {}),
  });
  const client = new Client({ name: 'switchboard-test', version: '1.0.0' });
  await client.connect(transport);
  return recording(client, transport);
}

/** The McpError a promise rejects with (fails the test if it resolves or rejects with something else). */
export async function mcpError(p: Promise<unknown>): Promise<McpError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof McpError) return err;
    throw new Error(`expected an McpError, got ${String(err)}`);
  }
  throw new Error('expected an McpError, but the call succeeded');
}

/** The task id carried by the first output notification a client saw ('' when none came yet). */
export function streamedTaskId(c: McpTestClient): string {
  const first = c.seen.find((s) => s.kind === 'log' && (s.logger === 'stdout' || s.logger === 'stderr'));
  return first?.kind === 'log' ? String(first.data['taskId']) : '';
}

/** Structured content of a tool result, typed loosely for assertions. */
export function structured(result: CallToolResult): Record<string, unknown> {
  return (result.structuredContent ?? {}) as Record<string, unknown>;
}
