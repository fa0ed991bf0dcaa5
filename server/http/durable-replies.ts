import type { FastifyInstance } from 'fastify';
import type { TaskService } from '../tasks/service.js';

/**
 * Holds each HTTP reply until the task changes it reports are on disk: a reply sent in the same tick as a
 * status change waits for that tick's group commit (nothing else does, so most replies pass straight through).
 */
export function holdRepliesForCommit(app: FastifyInstance, tasks: TaskService): void {
  app.addHook('onSend', (_req, _reply, payload, done) => {
    if (!tasks.log.holding) {
      done(null, payload);
      return;
    }
    tasks.afterCommit(() => done(null, payload));
  });
}
