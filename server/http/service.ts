import type { FastifyInstance } from 'fastify';
import type { HubContext } from '../context.js';
import { HUB_VERSION } from '../protocol/index.js';

/** Service info at `/` (the monitor page takes over for browsers in a later release) and the OpenAPI JSON. */
export function serviceRoutes(app: FastifyInstance, ctx: HubContext): void {
  app.get('/', { schema: { hide: true } }, async () => ({
    name: 'switchboard',
    version: HUB_VERSION,
    apis: {
      native: '/api/v1',
      openapi: '/openapi.json',
      execPlatform: ['/execute', '/queue', '/status/{task_id}', '/last_status', '/healthz'],
      socketio: { monitor: '/monitor', extension: '/extension' },
    },
    extensionsOnline: ctx.registry.all().length,
  }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
