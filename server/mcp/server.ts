import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  type LoggingLevel,
  LoggingLevelSchema,
  ReadResourceRequestSchema,
  ErrorCode as Rpc,
  SetLevelRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Principal } from '../auth/index.js';
import type { HubContext } from '../context.js';
import { fromZodError } from '../errors.js';
import { HUB_VERSION } from '../protocol/index.js';
import { rpcError, toMcpError } from './errors.js';
import { createNotifier } from './notify.js';
import { listResources, RESOURCE_TEMPLATES, readResource } from './resources.js';
import type { ToolCatalog } from './tools/index.js';
import type { McpTool } from './types.js';

const LEVELS = LoggingLevelSchema.options;

const INSTRUCTIONS =
  'Switchboard is a control hub for NVIDIA Omniverse. list_extensions shows the Kit apps and Python hosts ' +
  'online; execute_python runs code on one of them (get_scene_info and get_prim read a Kit stage). Every ' +
  'call is a task in the hub, visible in its monitor; list_tasks, get_task and cancel_task manage them.';

/**
 * A request schema that accepts any params: the SDK parses params before the handler runs and answers a
 * failure as InternalError with zod's raw text; parsing them here instead gives InvalidParams naming the field.
 */
function loose<M extends string>(method: M) {
  return z.object({ method: z.literal(method), params: z.unknown().optional() });
}

function paramsOf<S extends z.ZodObject<{ params: z.ZodType }>>(
  schema: S,
  raw: { params?: unknown },
): z.output<S['shape']['params']> {
  const parsed = schema.shape.params.safeParse(raw.params ?? {});
  if (!parsed.success) throw fromZodError(parsed.error);
  return parsed.data as z.output<S['shape']['params']>;
}

function describe(tool: McpTool): Tool {
  return {
    name: tool.name,
    ...(tool.title ? { title: tool.title } : {}),
    description: tool.description,
    inputSchema: tool.inputSchema,
    ...(tool.annotations ? { annotations: tool.annotations } : {}),
  };
}

export interface SessionServerDeps {
  hub: HubContext;
  principal: Principal;
  catalog: ToolCatalog;
  shuttingDown: () => boolean;
}

/**
 * One MCP server per session (the SDK binds a server to one transport). The low-level Server rather than
 * McpServer: the hub validates arguments itself so a bad argument is a JSON-RPC InvalidParams naming the
 * field, and a role's refusal is an error too, not a tool result the model might take for output.
 */
export function createSessionServer(deps: SessionServerDeps): Server {
  const { hub, principal, catalog } = deps;
  const server = new Server(
    { name: 'switchboard', title: 'Switchboard', version: HUB_VERSION },
    { capabilities: { tools: {}, resources: {}, logging: {} }, instructions: INSTRUCTIONS },
  );
  let minLevel: LoggingLevel | undefined;
  const ignored = (level: LoggingLevel) =>
    minLevel !== undefined && LEVELS.indexOf(level) < LEVELS.indexOf(minLevel);

  const guarded = <T>(fn: () => Promise<T> | T): Promise<T> =>
    Promise.resolve()
      .then(fn)
      .catch((err: unknown) => {
        throw toMcpError(err);
      });

  server.setRequestHandler(SetLevelRequestSchema, async (req) => {
    minLevel = req.params.level;
    return {};
  });

  server.setRequestHandler(ListToolsRequestSchema, () =>
    guarded(async () => {
      hub.auth.require(principal, 'read');
      return { tools: (await catalog.all()).map(describe) };
    }),
  );

  // Loose for the Protocol's own parse (it would answer InternalError); the Server's tools/call wrapper then
  // answers a malformed request with InvalidParams, and paramsOf types what passed.
  server.setRequestHandler(loose('tools/call'), (raw, extra) =>
    guarded(async () => {
      const req = { params: paramsOf(CallToolRequestSchema, raw) };
      const name = req.params.name;
      const tool = await catalog.find(name);
      if (!tool) {
        throw rpcError(Rpc.InvalidParams, 'bad_request', `no tool named "${name}"`, 'name');
      }
      hub.auth.require(principal, tool.action);
      const notify = createNotifier({
        send: (n) => extra.sendNotification(n),
        progressToken: req.params._meta?.progressToken,
        ignored,
        onError: (err) => hub.logger.debug({ err, tool: name }, 'mcp notification not sent'),
      });
      return tool.call(req.params.arguments ?? {}, {
        hub,
        principal,
        signal: extra.signal,
        notify,
        shuttingDown: deps.shuttingDown,
      });
    }),
  );

  server.setRequestHandler(ListResourcesRequestSchema, () =>
    guarded(async () => {
      hub.auth.require(principal, 'read');
      return { resources: await listResources(hub) };
    }),
  );
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () =>
    guarded(() => {
      hub.auth.require(principal, 'read');
      return { resourceTemplates: RESOURCE_TEMPLATES };
    }),
  );
  server.setRequestHandler(loose('resources/read'), (raw) =>
    guarded(() => {
      hub.auth.require(principal, 'read');
      return readResource(hub, paramsOf(ReadResourceRequestSchema, raw).uri);
    }),
  );
  return server;
}
