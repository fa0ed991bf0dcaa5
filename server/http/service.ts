import type { FastifyInstance } from 'fastify';
import type { HubContext } from '../context.js';
import { HUB_VERSION } from '../protocol/index.js';
import { monitorStatic } from './monitor-static.js';

/** `/`: the live monitor for a browser, service info for a JSON client; and the OpenAPI JSON. */
export function serviceRoutes(app: FastifyInstance, ctx: HubContext): void {
  const monitor = monitorStatic(app);
  app.get('/', { schema: { hide: true } }, async (req, reply) => {
    if (monitor.wanted(req)) return monitor.send(reply);
    return {
      name: 'switchboard',
      version: HUB_VERSION,
      apis: {
        native: '/api/v1',
        openapi: '/openapi.json',
        monitor: '/',
        execPlatform: ['/execute', '/queue', '/status/{task_id}', '/last_status', '/healthz'],
        socketio: { monitor: '/monitor', extension: '/extension' },
        workflowPlane: ['/v1/run_workflow', '/v1/run_workflow/{task_id}/events', '/health'],
        workflows: '/api/v1/workflows',
      },
      extensionsOnline: ctx.registry.all().length,
      workflows: ctx.workflows.registry.list().map(({ name, description }) => ({ name, description })),
    };
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
