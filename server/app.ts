import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Server } from 'socket.io';
import { AuthService } from './auth/index.js';
import { type HubConfig, type HubConfigInput, resolveConfig } from './config.js';
import type { HubContext } from './context.js';
import { CodeTasks } from './dispatch/code-tasks.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { PollingHosts } from './dispatch/polling-hosts.js';
import { ExtensionRegistry } from './dispatch/registry.js';
import { HubError } from './errors.js';
import { holdRepliesForCommit } from './http/durable-replies.js';
import { installErrorHandler } from './http/errors.js';
import { execCompatRoutes } from './http/exec-compat.js';
import { metricsRoutes } from './http/metrics.js';
import { nativeRoutes } from './http/native.js';
import { pollingRoutes } from './http/polling.js';
import { serviceRoutes } from './http/service.js';
import { workflowRoutes } from './http/workflow-plane.js';
import { createLogger, type Logger } from './log.js';
import { HUB_VERSION, NAMESPACES } from './protocol/index.js';
import { createIo } from './realtime/io.js';
import { createPolicy } from './safety/index.js';
import { createTaskStore } from './tasks/index.js';
import { TaskService } from './tasks/service.js';
import { WorkflowService } from './workflows/service.js';

export interface Hub {
  http: FastifyInstance;
  io: Server;
  ctx: HubContext;
  config: HubConfig;
  /** Starts listening; resolves with the base URL (the real port when config.port is 0). */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** Builds a whole hub from config without listening: tests and main.ts both start here. */
export async function buildHub(
  input: HubConfigInput | HubConfig = {},
  opts: { logger?: Logger } = {},
): Promise<Hub> {
  const config = resolveConfig(input);
  const logger = opts.logger ?? createLogger(config.logLevel);
  const auth = new AuthService(config);
  const policy = await createPolicy({
    mode: config.policyMode,
    maxCodeBytes: config.policyMaxCodeBytes,
    denyImports: config.policyDenyImports,
    denyCalls: config.policyDenyCalls,
    allow: config.policyAllow,
  });
  const store = createTaskStore(config);
  const tasks = new TaskService(store, logger);
  const registry = new ExtensionRegistry();
  const dispatcher = new Dispatcher(tasks, registry, config, logger);
  const codeTasks = new CodeTasks(tasks, dispatcher, policy, config);
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
  const workflows = new WorkflowService(core);
  const withWorkflows = { ...core, workflows };
  const ctx: HubContext = { ...withWorkflows, polling: new PollingHosts(withWorkflows) };

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
  serviceRoutes(app, ctx);
  workflowRoutes(app, ctx);
  let realtime: ReturnType<typeof createIo> | undefined;
  metricsRoutes(app, ctx, () =>
    realtime
      ? Object.fromEntries(Object.values(NAMESPACES).map((ns) => [ns, realtime?.io.of(ns).sockets.size ?? 0]))
      : {},
  );
  await app.ready();

  realtime = createIo(app.server, ctx);
  dispatcher.recover();

  let closed = false;
  return {
    http: app,
    io: realtime.io,
    ctx,
    config,
    async listen() {
      const address = await app.listen({ port: config.port, host: config.host });
      const port = (app.server.address() as { port: number }).port;
      logger.debug({ address }, 'listening');
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    },
    async close() {
      if (closed) return;
      closed = true;
      workflows.close();
      dispatcher.close();
      ctx.polling.close();
      await realtime.close();
      await app.close();
      tasks.close();
      store.close();
    },
  };
}
