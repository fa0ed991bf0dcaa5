import type { FastifyInstance } from 'fastify';
import type { HubContext } from '../context.js';
import { TaskStatus } from '../protocol/tasks.js';
import { requireRole } from './auth-hook.js';

/** Prometheus text exposition of the hub's gauges and counters (viewer token, like every read). */
export function metricsRoutes(
  app: FastifyInstance,
  ctx: HubContext,
  sockets: () => Record<string, number>,
): void {
  let events = 0;
  ctx.tasks.onEvent(() => {
    events += 1;
  });
  app.get(
    '/metrics',
    { onRequest: requireRole(ctx, 'read'), schema: { hide: true } },
    async (_req, reply) => {
      const counts = await ctx.tasks.counts();
      const lines = [
        '# HELP switchboard_tasks Tasks by status.',
        '# TYPE switchboard_tasks gauge',
        ...TaskStatus.options.map((s) => `switchboard_tasks{status="${s}"} ${counts[s] ?? 0}`),
        '# HELP switchboard_queue_depth Code tasks waiting for an extension.',
        '# TYPE switchboard_queue_depth gauge',
        `switchboard_queue_depth ${ctx.dispatcher.queuedCount()}`,
        '# HELP switchboard_extensions_online Extensions connected now.',
        '# TYPE switchboard_extensions_online gauge',
        `switchboard_extensions_online ${ctx.registry.all().length}`,
        '# HELP switchboard_jobs_running Jobs holding an extension slot.',
        '# TYPE switchboard_jobs_running gauge',
        `switchboard_jobs_running ${ctx.registry.all().reduce((n, r) => n + r.running.size, 0)}`,
        '# HELP switchboard_task_events_total Task events appended since start.',
        '# TYPE switchboard_task_events_total counter',
        `switchboard_task_events_total ${events}`,
        '# HELP switchboard_socket_clients Socket.IO clients connected, by namespace.',
        '# TYPE switchboard_socket_clients gauge',
        ...Object.entries(sockets()).map(([ns, n]) => `switchboard_socket_clients{namespace="${ns}"} ${n}`),
        '# HELP switchboard_uptime_seconds Seconds since the hub started.',
        '# TYPE switchboard_uptime_seconds gauge',
        `switchboard_uptime_seconds ${Math.round((Date.now() - ctx.startedAt) / 1000)}`,
      ];
      reply.header('content-type', 'text/plain; version=0.0.4');
      return `${lines.join('\n')}\n`;
    },
  );
}
