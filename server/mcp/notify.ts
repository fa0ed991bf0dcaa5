import type { LoggingLevel, ServerNotification } from '@modelcontextprotocol/sdk/types.js';

export interface Notifier {
  /**
   * A chunk of a task's stdout/stderr: a `notifications/message` (logger `stdout`/`stderr`) and, when the
   * caller sent a progressToken, a `notifications/progress` whose message is the text.
   */
  output(taskId: string, stream: 'stdout' | 'stderr', text: string): void;
  /** A workflow's model token, the same two ways (logger `token`). */
  token(taskId: string, text: string): void;
  /** Anything else worth telling the caller while it waits (status changes, tool calls of a workflow). */
  log(level: LoggingLevel, logger: string, data: unknown): void;
  /** A `notifications/progress` step (when the caller sent a progressToken) with this message. */
  progress(message: string): void;
  /** Resolves once every notification queued so far has been handed to the transport. */
  flush(): Promise<void>;
}

export interface NotifierDeps {
  send: (n: ServerNotification) => Promise<void>;
  progressToken: string | number | undefined;
  /** The session's logging/setLevel filter. */
  ignored: (level: LoggingLevel) => boolean;
  onError: (err: unknown) => void;
}

/**
 * Notifications of one call, sent strictly in order: the transport stores each in the event store (awaited)
 * before writing it, so sends are chained rather than left to race.
 */
export function createNotifier(deps: NotifierDeps): Notifier {
  let chain: Promise<void> = Promise.resolve();
  let progress = 0;
  const enqueue = (n: ServerNotification) => {
    chain = chain.then(() => deps.send(n)).catch(deps.onError);
  };
  const message = (level: LoggingLevel, logger: string, data: unknown) => {
    if (!deps.ignored(level)) enqueue({ method: 'notifications/message', params: { level, logger, data } });
  };
  const stepped = (text: string) => {
    if (deps.progressToken === undefined) return;
    progress += 1;
    enqueue({
      method: 'notifications/progress',
      params: { progressToken: deps.progressToken, progress, message: text },
    });
  };
  return {
    output(taskId, stream, text) {
      message(stream === 'stderr' ? 'warning' : 'info', stream, { taskId, stream, text });
      stepped(text);
    },
    token(taskId, text) {
      message('info', 'token', { taskId, text });
      stepped(text);
    },
    log: message,
    progress: stepped,
    flush: () => chain,
  };
}
