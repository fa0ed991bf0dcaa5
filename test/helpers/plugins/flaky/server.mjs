// A real MCP server (stdio) whose tools misbehave on purpose, for the plugin host's tests.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'flaky', version: '1.0.0' }, { capabilities: { logging: {} } });
const startedAt = Date.now();
let calls = 0;
let cancelled = 0;

const progress = (extra, progress, total, message) =>
  extra._meta?.progressToken === undefined
    ? Promise.resolve()
    : server.server.notification(
        {
          method: 'notifications/progress',
          params: { progressToken: extra._meta.progressToken, progress, total, message },
        },
        { relatedRequestId: extra.requestId },
      );

server.registerTool(
  'ok',
  { description: 'Answers with the pid and call count', inputSchema: { text: z.string().default('hi') } },
  async ({ text }) => {
    calls += 1;
    return {
      content: [
        { type: 'text', text: JSON.stringify({ pid: process.pid, calls, cancelled, text, startedAt }) },
      ],
    };
  },
);

server.registerTool(
  'crash',
  { description: 'Reports progress, then dies', inputSchema: {} },
  async (_args, extra) => {
    await progress(extra, 1, 2, 'about to crash');
    process.stderr.write('boom: simulated crash in the middle of a call\n');
    setTimeout(() => process.exit(3), 50);
    return new Promise(() => {});
  },
);

server.registerTool(
  'hang',
  { description: 'Never answers; says on stderr when cancelled', inputSchema: {} },
  async (_args, extra) => {
    await progress(extra, 1, 10, 'started hanging');
    return new Promise(() => {
      extra.signal.addEventListener('abort', () => {
        cancelled += 1;
        process.stderr.write(`hang cancelled: ${extra.requestId}\n`);
      });
    });
  },
);

server.registerTool(
  'garbage',
  { description: 'Writes non-JSON lines to stdout, then answers', inputSchema: {} },
  async () => {
    process.stdout.write('this is not JSON-RPC\n{"half": \nplain garbage line\n');
    return { content: [{ type: 'text', text: 'still alive' }] };
  },
);

server.registerTool(
  'log_and_answer',
  { description: 'Sends log notifications, then answers', inputSchema: { text: z.string() } },
  async ({ text }, extra) => {
    await server.sendLoggingMessage(
      { level: 'warning', logger: 'flaky', data: `about to shout ${text}` },
      extra.sessionId,
    );
    await progress(extra, 1, 1, 'shouted');
    return { content: [{ type: 'text', text: text.toUpperCase() }] };
  },
);

server.registerTool(
  'inspect',
  {
    description: 'Reads the resources it is handed and reports them',
    inputSchema: { resources: z.array(z.any()).default([]) },
  },
  async ({ resources }) => {
    const seen = resources.map((r) => {
      const bytes = readFileSync(r.path);
      return { ...r, read: bytes.length, digest: createHash('sha256').update(bytes).digest('hex') };
    });
    return { content: [{ type: 'text', text: JSON.stringify(seen) }] };
  },
);

await server.connect(new StdioServerTransport());
