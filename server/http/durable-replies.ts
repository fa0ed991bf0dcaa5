import type { FastifyInstance } from 'fastify';
import type { TaskService } from '../tasks/service.js';

/**
 * Holds each HTTP reply until the task changes it reports are on disk: a reply sent in the same tick as a
 * status change waits for that tick's group commit (nothing else does, so most replies pass straight through).
 */
export function holdRepliesForCommit(app: FastifyInstance, tasks: TaskService): void {
  app.addHook('onSend', (_req, reply, payload, done) => {
    // An error tells of no new state: it goes at once (a store that is down must not hold its 503s).
    if (!tasks.log.holding || reply.statusCode >= 400) {
      done(null, payload);
      return;
    }
    tasks.afterCommit(() => done(null, payload));
  });
}
