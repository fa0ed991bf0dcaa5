import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Server } from 'socket.io';
import { AuthService } from './auth/index.js';
import { type HubConfig, type HubConfigInput, resolveConfig } from './config.js';
import type { HubContext } from './context.js';
import { lockDataDir } from './data-dir-lock.js';
import { CodeTasks } from './dispatch/code-tasks.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { HostSecrets } from './dispatch/host-secrets.js';
import { PollingHosts } from './dispatch/polling-hosts.js';
import { ExtensionRegistry } from './dispatch/registry.js';
import { HubError } from './errors.js';
import { holdRepliesForCommit } from './http/durable-replies.js';
import { installErrorHandler } from './http/errors.js';
import { execCompatRoutes } from './http/exec-compat.js';
import { flowgramRoutes } from './http/flowgram.js';
import { graphRoutes } from './http/graphs.js';
import { hostRoutes } from './http/hosts.js';
import { metricsRoutes } from './http/metrics.js';
import { nativeRoutes } from './http/native.js';
import { pluginRoutes } from './http/plugins.js';
import { pollingRoutes } from './http/polling.js';
import { serviceRoutes } from './http/service.js';
import { workflowRoutes } from './http/workflow-plane.js';
import { createLogger, type Logger } from './log.js';
import { type McpEndpoint, type McpToolSource, mcpRoutes, pluginToolSource } from './mcp/index.js';
import { createObservability } from './metrics/index.js';
import { PluginService } from './plugins/index.js';
import { HUB_VERSION, NAMESPACES } from './protocol/index.js';
import type { ChangeFeed } from './realtime/change-feed.js';
import { createIo } from './realtime/io.js';
import { createPolicy } from './safety/index.js';
import { createTaskStore, type TaskStore } from './tasks/index.js';
import { TaskService } from './tasks/service.js';
import { attachTraceLog } from './tasks/trace-log.js';
import { FlowgramService } from './workflows/flowgram/service.js';
import { WorkflowService } from './workflows/service.js';

export interface Hub {
  http: FastifyInstance;
  io: Server;
  ctx: HubContext;
  config: HubConfig;
  /** The MCP server at /mcp (its sessions). */
  mcp: McpEndpoint;
  /** Starts listening; resolves with the base URL (the real port when config.port is 0). */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface HubOptions {
  logger?: Logger;
  /** Extra MCP tool sources (tests; the plugin tools are always there). */
  mcpTools?: readonly McpToolSource[];
}

/** Builds a whole hub from config without listening: tests and main.ts both start here. */
export async function buildHub(input: HubConfigInput | HubConfig = {}, opts: HubOptions = {}): Promise<Hub> {
  const config = resolveConfig(input);
  // Before anything touches the data dir: a second hub on it must not run restart recovery on live tasks.
  const unlock = lockDataDir(config.dataDir);
  try {
    return await assemble(config, opts, unlock);
  } catch (err) {
    unlock();
    throw err;
  }
}

async function assemble(config: HubConfig, opts: HubOptions, unlock: () => void): Promise<Hub> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const auth = new AuthService(config);
  const policy = await createPolicy({
    mode: config.policyMode,
    maxCodeBytes: config.policyMaxCodeBytes,
    denyImports: config.policyDenyImports,
    denyCalls: config.policyDenyCalls,
    allow: config.policyAllow,
    allowModules: config.policyAllowModules,
  });
  const store = await createTaskStore(config, logger);
  // In a cluster the unfinished tasks in the store are other processes' (or adopted from dead ones later).
  const tasks = config.redisUrl
    ? new TaskService(store, logger, [])
    : await TaskService.open(store, logger).catch(async (err: unknown) => {
        await store.close();
        throw err;
      });
  if (config.logTraceEnabled) attachTraceLog(tasks, logger);
  const registry = new ExtensionRegistry();
  // Cluster mode: what other hub processes commit reaches this one's subscribers (and its presence, theirs).
  const changeFeed = config.redisUrl ? await startChangeFeed(store, tasks, registry, logger) : undefined;
  const dispatcher = new Dispatcher(tasks, registry, config, logger);
  const codeTasks = new CodeTasks(tasks, dispatcher, policy, config);
  // Loaded only when asked for, as the Redis store is: the embedded hub has no cluster machinery at all.
  const cluster = config.redisUrl
    ? await import('./cluster/index.js').then((m) =>
        m.joinCluster({ config, logger, tasks, registry, dispatcher }).catch(async (err: unknown) => {
          await store.close();
          throw err;
        }),
      )
    : undefined;
  const core = {
    config,
    logger,
    auth,
    tasks,
    registry,
    dispatcher,
    codeTasks,
    policy,
    startedAt: Date.now(),
  };
  const plugins = new PluginService(core);
  const workflows = new WorkflowService({ ...core, plugins });
  const flowgram = new FlowgramService(core);
  const withWorkflows = {
    ...core,
    workflows,
    flowgram,
    plugins,
    hostSecrets: new HostSecrets(config.dataDir),
  };
  const ctx: HubContext = {
    ...withWorkflows,
    polling: new PollingHosts(withWorkflows),
    ...(changeFeed ? { changeFeed } : {}),
  };

  // Typed as the default instance: route modules take FastifyInstance, pino's Logger is a superset of its logger.
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.maxPayloadBytes,
    trustProxy: config.trustProxy,
    forceCloseConnections: true,
    // Above the contract's id limit, so a long id gets the hub's own 400/404 rather than a router 414.
    routerOptions: { maxParamLength: 512 },
    frameworkErrors: (err, _req, reply) => {
      const body = { error: new HubError('bad_request', `url: ${err.message}`, { field: 'url' }).toBody() };
      (reply as unknown as { code(n: number): { send(b: unknown): void } }).code(400).send(body);
    },
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app, logger);
  holdRepliesForCommit(app, tasks);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Switchboard hub',
        version: HUB_VERSION,
        description: 'Real-time control hub for Omniverse',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  nativeRoutes(app, ctx);
  execCompatRoutes(app, ctx);
  pollingRoutes(app, ctx);
  hostRoutes(app, ctx);
  serviceRoutes(app, ctx);
  workflowRoutes(app, ctx);
  graphRoutes(app, ctx);
  await flowgramRoutes(app, ctx);
  pluginRoutes(app, ctx);
  // Every plugin tool is an MCP tool too (issue 13): the plugin service is the facade the MCP seam expects.
  const mcp = mcpRoutes(app, ctx, { tools: [pluginToolSource(plugins), ...(opts.mcpTools ?? [])] });
  let realtime: ReturnType<typeof createIo> | undefined;
  const observability = createObservability(ctx, () =>
    realtime
      ? Object.fromEntries(Object.values(NAMESPACES).map((ns) => [ns, realtime?.io.of(ns).sockets.size ?? 0]))
      : {},
  );
  metricsRoutes(app, ctx, observability);
  await app.ready();

  realtime = createIo(app.server, ctx, config.redisUrl ? await roomAdapter(config) : undefined);
  await plugins.init();

  let closed = false;
  return {
    http: app,
    io: realtime.io,
    ctx,
    config,
    mcp,
    async listen() {
      // Cluster: join (and adopt what dead processes left, a former self included) before serving anyone.
      await cluster?.start();
      const address = await app.listen({ port: config.port, host: config.host });
      // Only once the port is ours: a hub that cannot listen leaves the stored tasks as they are. Runs before
      // any connection is served (connections are handled after this tick's microtasks).
      dispatcher.recover();
      const port = (app.server.address() as { port: number }).port;
      logger.debug({ address }, 'listening');
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    },
    async close() {
      if (closed) return;
      closed = true;
      observability.close();
      await mcp.close();
      workflows.close();
      flowgram.close();
      await plugins.close();
      cluster?.stop();
      dispatcher.close();
      ctx.polling.close();
      await realtime.close();
      await changeFeed?.close();
      await app.close();
      await tasks.close();
      await cluster?.close();
      await store.close();
      unlock();
    },
  };
}

/** The change stream reader, when the store is shared (Redis): loaded only then. */
async function startChangeFeed(
  store: TaskStore,
  tasks: TaskService,
  registry: ExtensionRegistry,
  logger: Logger,
): Promise<ChangeFeed | undefined> {
  const { RedisTaskStore } = await import('./tasks/redis-store.js');
  if (!(store instanceof RedisTaskStore)) return undefined;
  const { ChangeFeed } = await import('./realtime/change-feed.js');
  return ChangeFeed.start(store, tasks, registry, logger);
}

/** Socket.IO rooms across the hub processes (the Redis Streams adapter), loaded only in cluster mode. */
async function roomAdapter(config: HubConfig) {
  const { redisStreamsAdapter } = await import('./realtime/cluster-adapter.js');
  return redisStreamsAdapter(config.redisUrl as string, config.redisPrefix);
}
