import type { TaskStatus } from '../../server/protocol/index.js';
import { SwitchboardError } from '../core/errors.js';
import { UsageError } from './args.js';

/** The CLI's exit codes; scripts branch on them, so they never change meaning. */
export const EXIT = {
  succeeded: 0,
  failed: 1,
  usage: 2,
  cancelled: 3,
  timedOut: 4,
  unreachable: 5,
} as const;

/** Exit code for a task that ended (or, for a task still going, 0: the command itself did its job). */
export function exitForStatus(status: TaskStatus): number {
  switch (status) {
    case 'failed':
      return EXIT.failed;
    case 'cancelled':
      return EXIT.cancelled;
    case 'timed_out':
      return EXIT.timedOut;
    default:
      return EXIT.succeeded;
  }
}

/** Exit code for an error that stopped a command. */
export function exitForError(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (!(err instanceof SwitchboardError)) return EXIT.failed;
  switch (err.code) {
    case 'hub_unreachable':
    case 'request_timeout':
    case 'unauthorized':
    case 'forbidden':
      return EXIT.unreachable;
    // The hub refused the request as malformed: the command line was wrong.
    case 'bad_request':
      return EXIT.usage;
    default:
      return EXIT.failed;
  }
}
